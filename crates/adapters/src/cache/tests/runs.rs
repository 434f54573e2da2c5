//! Missing windows next to each other asked in one call, and parts of a window merged.

use super::times::{available, available_calls, event_type};
use super::*;

/// A range cut as the use cases cut it: pieces of 31 days from its start.
fn in_pieces(start: &str, days: i64) -> Vec<TimeRange> {
    range(start, "2040-01-01T00:00:00Z")
        .not_before(at(start))
        .and_then(|from| TimeRange::new(from.start(), from.start() + TimeDelta::days(days)))
        .expect("range")
        .split(TimeDelta::days(31))
}

#[tokio::test]
async fn a_cold_month_is_one_call_and_a_year_twelve_then_none_a_minute_later() {
    let (_, scheduling, clock) =
        cached_with(settings(Duration::from_secs(600)), Counting::default());
    clock.set("2030-01-02T10:00:00Z");
    let week = available(
        &scheduling,
        range("2030-01-02T10:01:00Z", "2030-01-09T10:01:00Z"),
    )
    .await;
    assert_eq!(
        week.len(),
        6 + 6 * 8 + 2,
        "from 11:00 on the first day to 10:00 on the last"
    );
    assert_eq!(available_calls(&scheduling), 1, "a cold week: one call");

    let (_, scheduling, clock) =
        cached_with(settings(Duration::from_secs(600)), Counting::default());
    clock.set("2030-01-02T10:00:00Z");
    available(
        &scheduling,
        range("2030-01-02T10:01:00Z", "2030-02-02T10:01:00Z"),
    )
    .await;
    assert_eq!(available_calls(&scheduling), 1, "a cold month: one call");

    let (_, scheduling, clock) =
        cached_with(settings(Duration::from_secs(600)), Counting::default());
    clock.set("2030-01-02T10:00:00Z");
    let mut first = 0;
    for piece in in_pieces("2030-01-02T10:01:00Z", 365) {
        let times = scheduling
            .available_times(&token(), &account("A"), &event_type(), piece)
            .await
            .expect("times");
        first += times.len();
    }
    assert_eq!(available_calls(&scheduling), 12, "a cold year: 12 calls");
    assert!(
        scheduling
            .inner
            .asked
            .lock()
            .expect("asked")
            .iter()
            .all(|asked| asked.duration() <= TimeDelta::days(31))
    );
    // A minute later, the same year from the new now: every piece's windows were kept, the
    // parts of a week two calls fetched merged into one.
    clock.set("2030-01-02T10:01:00Z");
    let mut again = 0;
    for piece in in_pieces("2030-01-02T10:02:00Z", 365) {
        again += scheduling
            .available_times(&token(), &account("A"), &event_type(), piece)
            .await
            .expect("times")
            .len();
    }
    assert_eq!(available_calls(&scheduling), 12, "nothing asked again");
    assert!(
        again + 1 >= first && again <= first,
        "{again} after {first}"
    );
}

#[tokio::test]
async fn busy_weeks_asked_from_a_moving_now_are_merged_and_asked_once() {
    let (_, scheduling, clock) =
        cached_with(settings(Duration::from_secs(600)), Counting::default());
    clock.set("2030-01-02T10:00:00Z");
    let busy = |start: &'static str| {
        let scheduling = &scheduling;
        async move {
            let mut times = Vec::new();
            for piece in range(start, "2040-01-01T00:00:00Z")
                .not_before(at(start))
                .and_then(|from| TimeRange::new(from.start(), from.start() + TimeDelta::days(28)))
                .expect("range")
                .split(TimeDelta::days(7))
            {
                times.extend(
                    scheduling
                        .busy_times(&token(), &account("A"), piece)
                        .await
                        .expect("busy")
                        .into_iter()
                        .map(|time| time.start_time),
                );
            }
            times
        }
    };
    let first = busy("2030-01-02T10:01:00Z").await;
    assert_eq!(scheduling.inner.busy_calls.load(Ordering::SeqCst), 4);
    clock.set("2030-01-02T10:01:00Z");
    let again = busy("2030-01-02T10:02:00Z").await;
    assert_eq!(
        scheduling.inner.busy_calls.load(Ordering::SeqCst),
        5,
        "every part of a week kept, merged: only the last week, for its minute more"
    );
    assert_eq!(again, first, "each busy time once");
}
