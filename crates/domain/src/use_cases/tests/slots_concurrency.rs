//! Every call of one slots request shares the concurrency limit.

use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;

use super::*;
use crate::model::BusyTime;
use crate::ports::SchedulingProvider;

/// A provider with three 30-minute event types whose available-times calls take 10 ms each,
/// counting how many run at once.
#[derive(Default)]
struct Slow {
    in_flight: AtomicUsize,
    most: AtomicUsize,
    calls: AtomicUsize,
}

#[async_trait]
impl SchedulingProvider for Slow {
    async fn current_user(&self, _: &CalendlyToken) -> Result<CalendlyUser, ProviderError> {
        Ok(calendly_user())
    }

    async fn event_types(
        &self,
        _: &CalendlyToken,
        _: &CalendlyUserUri,
    ) -> Result<Arc<[EventType]>, ProviderError> {
        Ok(["https://e/1", "https://e/2", "https://e/3"]
            .map(event_type)
            .to_vec()
            .into())
    }

    async fn available_times(
        &self,
        _: &CalendlyToken,
        _: &CalendlyUserUri,
        _: &EventTypeUri,
        range: TimeRange,
    ) -> Result<AvailableTimes, ProviderError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.most.fetch_max(now, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(10)).await;
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        let start = range.start().to_rfc3339();
        Ok(vec![available(&start, 1)].into())
    }

    async fn busy_times(
        &self,
        _: &CalendlyToken,
        _: &CalendlyUserUri,
        _: TimeRange,
    ) -> Result<Vec<BusyTime>, ProviderError> {
        Ok(Vec::new())
    }

    async fn availability_schedules(
        &self,
        _: &CalendlyToken,
        _: &CalendlyUserUri,
    ) -> Result<Vec<RawJson>, ProviderError> {
        Ok(Vec::new())
    }
}

#[tokio::test(start_paused = true)]
async fn a_40_day_range_over_3_event_types_keeps_to_the_limit_and_a_stable_order() {
    let slow = Arc::new(Slow::default());
    let service = SchedulingService::new(
        Ports {
            scheduling: Arc::clone(&slow) as Arc<dyn SchedulingProvider>,
            ..ports(connected_repository(), MockSchedulingProvider::new())
        },
        AvailabilityPolicy {
            max_concurrent_calls: 2,
            ..AvailabilityPolicy::default()
        },
    );
    let query = SlotsQuery {
        start: at("2030-01-02T00:00:00Z"),
        end: at("2030-02-11T00:00:00Z"),
        event_types: Vec::new(),
        timezone: Some(chrono_tz::UTC),
    };
    let first = service
        .slots(&user_id(), query.clone())
        .await
        .expect("slots");
    assert_eq!(slow.calls.load(Ordering::SeqCst), 6);
    assert_eq!(slow.most.load(Ordering::SeqCst), 2);
    // Each piece's first slot, three event types at each: by start, then event type.
    let order: Vec<String> = first
        .days
        .iter()
        .flat_map(|day| &day.slots)
        .map(|slot| format!("{} {}", slot.start.to_rfc3339(), slot.event_type))
        .collect();
    assert_eq!(
        order,
        [
            "2030-01-02T00:00:00+00:00 https://e/1",
            "2030-01-02T00:00:00+00:00 https://e/2",
            "2030-01-02T00:00:00+00:00 https://e/3",
            "2030-02-02T00:00:00+00:00 https://e/1",
            "2030-02-02T00:00:00+00:00 https://e/2",
            "2030-02-02T00:00:00+00:00 https://e/3",
        ]
    );
    let again = service.slots(&user_id(), query).await.expect("slots");
    assert_eq!(first, again);
}
