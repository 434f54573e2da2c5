use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use domain::{AccountCache, BusyTime, CalendlyUserUri, Clock, SchedulingProvider};

use super::*;
use crate::shared_tier::SharedTier;
use domain::{
    AvailableTime, AvailableTimes, CalendlyToken, CalendlyUser, EventType, EventTypeUri,
    ProviderError, RawJson, TimeRange,
};

mod answers;
mod event_types;
mod hearing;
mod runs;
mod shared;
mod times;

fn account(id: &str) -> CalendlyUserUri {
    CalendlyUserUri::parse(format!("https://api.calendly.com/users/{id}")).expect("uri")
}

fn token() -> CalendlyToken {
    CalendlyToken::parse("token").expect("token")
}

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).expect("time").to_utc()
}

fn range(start: &str, end: &str) -> TimeRange {
    TimeRange::new(at(start), at(end)).expect("range")
}

/// A clock the test sets.
#[derive(Debug)]
struct SetClock(Mutex<DateTime<Utc>>);

impl SetClock {
    fn set(&self, now: &str) {
        *self.0.lock().expect("clock") = at(now);
    }
}

impl Clock for SetClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().expect("clock")
    }
}

/// A provider counting its calls, each answered after `delay`: event types `<account>/event`;
/// a slot at every hour from 09:00 to 16:00 UTC; a busy half hour each day at 12:00 UTC. With
/// `fail`, every call times out.
#[derive(Debug, Default)]
struct Counting {
    calls: AtomicUsize,
    available_calls: AtomicUsize,
    busy_calls: AtomicUsize,
    asked: Mutex<Vec<TimeRange>>,
    delay: Duration,
    fail: bool,
}

impl Counting {
    async fn answer(&self, counter: &AtomicUsize) -> Result<(), ProviderError> {
        counter.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(self.delay).await;
        if self.fail {
            return Err(ProviderError::Timeout);
        }
        Ok(())
    }

    /// The hours of `range` (whole hours from its start, rounded up) within 09:00–17:00.
    fn hours(range: TimeRange, wanted: impl Fn(u32) -> bool) -> Vec<DateTime<Utc>> {
        use chrono::{DurationRound, Timelike};
        let mut hour = range
            .start()
            .duration_round_up(TimeDelta::hours(1))
            .expect("round");
        let mut hours = Vec::new();
        while hour < range.end() {
            if wanted(hour.hour()) {
                hours.push(hour);
            }
            hour += TimeDelta::hours(1);
        }
        hours
    }
}

#[async_trait]
impl SchedulingProvider for Counting {
    async fn current_user(&self, _: &CalendlyToken) -> Result<CalendlyUser, ProviderError> {
        Err(ProviderError::Timeout)
    }

    async fn event_types(
        &self,
        _: &CalendlyToken,
        account: &CalendlyUserUri,
    ) -> Result<Arc<[EventType]>, ProviderError> {
        self.answer(&self.calls).await?;
        let uri = format!("{account}/event");
        Ok(Arc::from(vec![EventType {
            duration_minutes: Some(30),
            active: true,
            // As Calendly writes it: what the use cases read of it is in its JSON too.
            json: RawJson::parse(format!(r#"{{"uri":"{uri}","duration":30}}"#)).expect("json"),
            uri: EventTypeUri::parse(uri).expect("uri"),
        }]))
    }

    async fn available_times(
        &self,
        _: &CalendlyToken,
        _: &CalendlyUserUri,
        _: &EventTypeUri,
        range: TimeRange,
    ) -> Result<AvailableTimes, ProviderError> {
        self.asked.lock().expect("asked").push(range);
        self.answer(&self.available_calls).await?;
        Ok(Self::hours(range, |hour| (9..17).contains(&hour))
            .into_iter()
            .map(|start| AvailableTime {
                start_time: start,
                seats_left: Some(1),
                booking_url: None,
                json: RawJson::parse(format!(
                    r#"{{"status":"available","start_time":"{}"}}"#,
                    start.format("%Y-%m-%dT%H:%M:%S%.6fZ")
                ))
                .expect("json"),
            })
            .collect())
    }

    async fn busy_times(
        &self,
        _: &CalendlyToken,
        _: &CalendlyUserUri,
        range: TimeRange,
    ) -> Result<Vec<BusyTime>, ProviderError> {
        self.asked.lock().expect("asked").push(range);
        self.answer(&self.busy_calls).await?;
        Ok(Self::hours(range, |hour| hour == 12)
            .into_iter()
            .map(|start| BusyTime {
                start_time: start,
                end_time: start + TimeDelta::minutes(30),
                json: RawJson::parse(format!(r#"{{"start_time":"{start}"}}"#)).expect("json"),
            })
            .collect())
    }

    async fn availability_schedules(
        &self,
        _: &CalendlyToken,
        _: &CalendlyUserUri,
    ) -> Result<Vec<RawJson>, ProviderError> {
        Err(ProviderError::Timeout)
    }
}

fn settings(ttl: Duration) -> CacheSettings {
    CacheSettings {
        event_types_ttl: ttl,
        event_types_max_accounts: 100,
        event_types_max_bytes: 1 << 20,
        availability_ttl: ttl,
        availability_max_windows: 1000,
        availability_max_bytes: 1 << 20,
        ready_max_bytes: 1 << 20,
        available_window: TimeDelta::days(7),
        busy_window: TimeDelta::days(7),
        available_span: TimeDelta::days(31),
        busy_span: TimeDelta::days(7),
        start_lead: TimeDelta::minutes(1),
        longest_load: Duration::from_secs(10),
    }
}

/// A cache over `provider` with `settings`, at 2030-01-01T00:00:00Z.
fn cached_with(
    settings: CacheSettings,
    provider: Counting,
) -> (ProviderCache, CachedScheduling<Counting>, Arc<SetClock>) {
    let clock = Arc::new(SetClock(Mutex::new(at("2030-01-01T00:00:00Z"))));
    let cache = ProviderCache::new(settings, Arc::clone(&clock) as Arc<dyn Clock>, None, None);
    let scheduling = cache.wrap(provider);
    (cache, scheduling, clock)
}

fn cached(ttl: Duration, provider: Counting) -> (ProviderCache, CachedScheduling<Counting>) {
    let (cache, scheduling, _) = cached_with(settings(ttl), provider);
    (cache, scheduling)
}

fn calls(scheduling: &CachedScheduling<Counting>) -> usize {
    scheduling.inner.calls.load(Ordering::SeqCst)
}

async fn first_uri(scheduling: &CachedScheduling<Counting>, id: &str) -> String {
    scheduling
        .event_types(&token(), &account(id))
        .await
        .expect("event types")[0]
        .uri
        .to_string()
}
