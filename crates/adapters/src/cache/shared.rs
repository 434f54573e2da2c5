//! Calendly's answers in the shared tier ([`SharedTier`], Redis), under each instance's own
//! store: a miss in process looks there before asking Calendly, and what Calendly answers is
//! put there for the other instances.
//!
//! Each account is one Redis hash: its two generations (`gt` for times, `ge` for event types)
//! and its answers, each under a field named with the generation it was loaded at. Forgetting
//! moves the generation on and drops the answers (one script, atomic); an answer is put only
//! if the generation is still the one read before the load (one script too), so a load that a
//! forgetting overtook is never shared. Each answer carries when it was stored and is not used
//! past its TTL, whatever Redis still holds; the hash expires a TTL after its last write.
//!
//! An answer is kept in the tier's own format ([`super::encoding`]): the typed fields of each
//! item beside its object as the provider wrote it.

use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use domain::{CalendlyUserUri, Clock, EventTypeUri};
use redis::Script;

use super::encoding::Shareable;
use super::hold::Hold;
use super::scripts::{ALIVE, FORGET, GET, PUT, RELEASE};
use crate::shared_tier::{SharedTier, millis};

/// An account's hash is emptied of its answers (its generations kept) past this many fields:
/// windows of weeks gone by would otherwise stay as long as the account is asked about.
const MOST_FIELDS: u32 = 512;

/// Which answers of an account.
#[derive(Debug, Clone, Copy)]
pub(super) enum Answers<'a> {
    EventTypes,
    Available {
        event_type: &'a EventTypeUri,
        window_start: i64,
    },
    Busy {
        window_start: i64,
    },
}

impl Answers<'_> {
    /// Its generation's field, and its own field's name around the generation.
    fn fields(&self) -> (&'static str, &'static str, String) {
        match self {
            Self::EventTypes => ("ge", "e", String::new()),
            Self::Available {
                event_type,
                window_start,
            } => (
                "gt",
                "a",
                format!("|{window_start}|{}", event_type.as_str()),
            ),
            Self::Busy { window_start } => ("gt", "b", format!("|{window_start}")),
        }
    }

    fn op(&self) -> &'static str {
        match self {
            Self::EventTypes => "event_types",
            Self::Available { .. } => "available_times",
            Self::Busy { .. } => "busy_times",
        }
    }
}

/// An answer found in the tier: its items (read back), the times it holds for (`from` on, to
/// `until` for times), how old it is.
#[derive(Debug)]
pub(super) struct Found<T> {
    pub data: T,
    pub from: DateTime<Utc>,
    pub until: DateTime<Utc>,
    pub age: Duration,
}

/// What a look into the tier gave: the generation to put the loaded answer under (`None`: the
/// tier did not answer, so nothing is put), the answer when there was a fresh one, and whether
/// another instance is loading it now.
#[derive(Debug)]
pub(super) struct Looked<T> {
    pub generation: Option<String>,
    pub found: Option<Found<T>>,
    pub loaded_elsewhere: bool,
}

impl<T> Looked<T> {
    /// The generation to put the loaded answer under when this instance holds its load.
    pub(super) fn holder(&self) -> Option<&str> {
        self.generation
            .as_deref()
            .filter(|_| !self.loaded_elsewhere)
    }

    fn nothing() -> Self {
        Self {
            generation: None,
            found: None,
            loaded_elsewhere: false,
        }
    }
}

/// The answers part of the shared tier.
#[derive(Debug)]
pub(crate) struct SharedAnswers {
    tier: SharedTier,
    get: Script,
    put: Script,
    release: Script,
    forget: Script,
    alive: Script,
    /// How long forgetting is remembered: the longest TTL plus the longest load.
    horizon: Duration,
    /// How long a load is held for the other instances (who wait for it, at most this long).
    pub(super) hold: Duration,
    /// This instance, in the holds it takes.
    instance: String,
}

/// How long an instance counts as alive after it last said so: it says so when it takes a
/// hold, and every [`ALIVE_EVERY`] while a load it holds runs.
const ALIVE_FOR: Duration = Duration::from_millis(1500);
/// How often an instance says it is alive while a load it holds runs.
pub(super) const ALIVE_EVERY: Duration = Duration::from_millis(500);

impl SharedAnswers {
    pub(crate) fn new(tier: SharedTier, horizon: Duration, hold: Duration) -> Self {
        Self {
            tier,
            get: Script::new(GET),
            put: Script::new(PUT),
            release: Script::new(RELEASE),
            forget: Script::new(FORGET),
            alive: Script::new(ALIVE),
            horizon,
            hold,
            instance: crate::crypto::random_text(8),
        }
    }

    /// The key saying `instance` is alive, without the instance.
    fn alive_prefix(&self) -> String {
        self.tier.key("alive", "")
    }

    /// Says this instance is alive (it holds a load that still runs).
    pub(super) async fn alive(&self) {
        let mut invocation = self.alive.prepare_invoke();
        invocation
            .key(format!("{}{}", self.alive_prefix(), self.instance))
            .arg(millis(ALIVE_FOR));
        let _: Option<i64> = self.tier.run("alive", &invocation).await;
    }

    fn key(&self, account: &CalendlyUserUri) -> String {
        self.tier.key("account", account.as_str())
    }

    /// `account`'s `answers`, if kept less than `ttl` ago, read by `read`; when there are
    /// none and no other instance loads them, the caller holds their load.
    pub(super) async fn look<T>(
        &self,
        account: &CalendlyUserUri,
        answers: Answers<'_>,
        ttl: Duration,
        clock: &dyn Clock,
        read: impl FnOnce(&Bytes) -> Option<T>,
    ) -> Looked<T> {
        let (generation, letter, rest) = answers.fields();
        let mut invocation = self.get.prepare_invoke();
        invocation
            .key(self.key(account))
            .arg(generation)
            .arg(letter)
            .arg(rest)
            .arg(millis(self.hold))
            .arg(
                clock
                    .now()
                    .checked_sub_signed(ttl_delta(ttl))
                    .and_then(|since| since.timestamp_nanos_opt())
                    .unwrap_or(0),
            )
            .arg(&self.instance)
            .arg(self.alive_prefix())
            .arg(millis(ALIVE_FOR));
        let Some((generation, value, loader)) = self
            .tier
            .run::<(String, Option<Vec<u8>>, u8)>(answers.op(), &invocation)
            .await
        else {
            return Looked::nothing();
        };
        let found = value.and_then(|value| {
            let (stored, (from, until), body) = decode(value)?;
            let age = (clock.now() - stored).to_std().unwrap_or_default();
            if age >= ttl {
                return None;
            }
            Some(Found {
                data: read(&body)?,
                from,
                until,
                age,
            })
        });
        Looked {
            generation: Some(generation),
            found,
            loaded_elsewhere: loader == 2,
        }
    }

    /// The hold of the load of `account`'s `answers` at `generation`, which this instance
    /// took: let go of when dropped armed (the load's future dropped half-way), so that the
    /// other instances need not wait for a load no one makes any more.
    pub(super) fn hold_of(
        &self,
        account: &CalendlyUserUri,
        answers: Answers<'_>,
        generation: &str,
    ) -> Hold {
        let (_, letter, rest) = answers.fields();
        Hold::new(
            (self.tier.clone(), self.release.clone()),
            self.key(account),
            format!("{letter}{generation}{rest}"),
            answers.op(),
        )
    }

    /// Lets go of the load of `account`'s `answers` at `generation`, which failed.
    pub(super) async fn release(
        &self,
        account: &CalendlyUserUri,
        answers: Answers<'_>,
        generation: &str,
    ) {
        let (_, letter, rest) = answers.fields();
        let mut invocation = self.release.prepare_invoke();
        invocation
            .key(self.key(account))
            .arg(format!("{letter}{generation}{rest}"));
        let _: Option<i64> = self.tier.run(answers.op(), &invocation).await;
    }

    /// Puts `data` (valid within `held`, asked of the provider at `asked_at`, from which its
    /// age counts) as `account`'s `answers` at `generation`, unless it has moved on since.
    pub(super) async fn put(
        &self,
        account: &CalendlyUserUri,
        answers: Answers<'_>,
        generation: &str,
        (held, ttl): ((DateTime<Utc>, DateTime<Utc>), Duration),
        asked_at: DateTime<Utc>,
        data: &impl Shareable,
    ) {
        let (generation_field, letter, rest) = answers.fields();
        let value = encode(asked_at, held, data);
        let mut invocation = self.put.prepare_invoke();
        invocation
            .key(self.key(account))
            .arg(generation_field)
            .arg(generation)
            .arg(format!("{letter}{generation}{rest}"))
            .arg(value)
            .arg(MOST_FIELDS)
            .arg(millis(ttl));
        let _: Option<i64> = self.tier.run(answers.op(), &invocation).await;
    }

    /// Drops `account`'s answers in the tier: its times, and its event types too when `all`.
    /// Whether it reached the tier.
    pub(super) async fn forget(&self, account: &CalendlyUserUri, all: bool) -> bool {
        let mut invocation = self.forget.prepare_invoke();
        invocation
            .key(self.key(account))
            .arg(if all { "all" } else { "times" })
            .arg(millis(self.horizon));
        let done: Option<i64> = self.tier.run("forget", &invocation).await;
        done.is_some()
    }

    /// How long forgetting is remembered: past it, nothing a missed forgetting was for is
    /// served any more.
    pub(super) fn horizon(&self) -> Duration {
        self.horizon
    }
}

fn ttl_delta(ttl: Duration) -> chrono::TimeDelta {
    chrono::TimeDelta::from_std(ttl).unwrap_or(chrono::TimeDelta::MAX)
}

/// `data` as kept: when stored, and from and until when it holds (nanoseconds since the
/// epoch), then the items in the tier's own format ([`super::encoding`]).
fn encode(
    stored: DateTime<Utc>,
    (from, until): (DateTime<Utc>, DateTime<Utc>),
    data: &impl Shareable,
) -> Vec<u8> {
    let nanos = |time: DateTime<Utc>| time.timestamp_nanos_opt().unwrap_or(i64::MAX);
    let mut value = format!("{} {} {}\n", nanos(stored), nanos(from), nanos(until)).into_bytes();
    data.write(&mut value);
    value
}

type Held = (DateTime<Utc>, DateTime<Utc>);

fn decode(value: Vec<u8>) -> Option<(DateTime<Utc>, Held, Bytes)> {
    let value = Bytes::from(value);
    let line_end = value.iter().position(|&b| b == b'\n')?;
    let header = std::str::from_utf8(&value[..line_end]).ok()?;
    let mut fields = header.split(' ');
    let mut time = || Some(DateTime::from_timestamp_nanos(fields.next()?.parse().ok()?));
    let (stored, from, until) = (time()?, time()?, time()?);
    Some((stored, (from, until), value.slice(line_end + 1..)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::{AvailableTime, RawJson};

    #[test]
    fn what_is_kept_reads_back_as_it_came() {
        let at = |text: &str| DateTime::parse_from_rfc3339(text).expect("time").to_utc();
        let times: Vec<AvailableTime> = [
            r#"{"start_time":"2030-01-07T09:00:00Z","status":"available"}"#,
            r#"{"start_time":"2030-01-07T09:30:00.5Z","status":"available"}"#,
        ]
        .iter()
        .zip(["2030-01-07T09:00:00Z", "2030-01-07T09:30:00.5Z"])
        .map(|(json, start)| AvailableTime {
            start_time: at(start),
            seats_left: Some(1),
            booking_url: None,
            json: RawJson::parse(*json).expect("json"),
        })
        .collect();
        let value = encode(
            at("2030-01-01T00:00:00.25Z"),
            (at("2030-01-02T03:04:05Z"), at("2030-01-14T00:00:00Z")),
            &times,
        );
        let (stored, held, body) = decode(value).expect("decoded");
        assert_eq!(stored, at("2030-01-01T00:00:00.25Z"));
        assert_eq!(
            held,
            (at("2030-01-02T03:04:05Z"), at("2030-01-14T00:00:00Z"))
        );
        let read = Vec::<AvailableTime>::read(&body).expect("read");
        assert_eq!(read.len(), 2);
        assert_eq!(read[1].start_time, at("2030-01-07T09:30:00.5Z"));
        assert_eq!(read[1].seats_left, Some(1));
        assert_eq!(read[1].json.as_bytes(), times[1].json.as_bytes());
        assert!(decode(b"no header".to_vec()).is_none());
        assert!(decode(b"1 x 2\n{}".to_vec()).is_none());
        assert!(
            decode(b"1 2\n{}".to_vec()).is_none(),
            "what an older instance kept is not read"
        );
    }
}
