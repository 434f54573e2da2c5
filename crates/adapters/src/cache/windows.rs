//! Fixed windows of time that overlapping questions share: each window is asked of the
//! provider whole (from the earliest time it may be asked about), kept, and every question
//! that falls in it is cut out of what was kept.

use chrono::{DateTime, TimeDelta, Utc};
use domain::TimeRange;

/// Windows start at multiples of their length from this Monday, 00:00 UTC: with weeks, a
/// window is a UTC calendar week.
const ORIGIN_SECS: i64 = 4 * 24 * 3600;

/// One window a question touches: the window itself and the part of the question in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Touched {
    pub window: TimeRange,
    pub needed: TimeRange,
}

/// The aligned windows of `length` that `range` touches, in order.
pub(super) fn touched(range: TimeRange, length: TimeDelta) -> Vec<Touched> {
    let length_secs = length.num_seconds().max(1);
    let offset = (range.start().timestamp() - ORIGIN_SECS).rem_euclid(length_secs);
    let mut start = range.start()
        - TimeDelta::seconds(offset)
        - TimeDelta::nanoseconds(i64::from(range.start().timestamp_subsec_nanos()));
    let mut windows = Vec::new();
    while start < range.end() {
        let end = start + TimeDelta::seconds(length_secs);
        if let (Some(window), Some(needed)) = (
            TimeRange::new(start, end),
            TimeRange::new(start.max(range.start()), end.min(range.end())),
        ) {
            windows.push(Touched { window, needed });
        }
        start = end;
    }
    windows
}

/// What is asked of the provider for `touched`: the window from the earliest time it may be
/// asked about (`earliest`, now plus the lead), but never from later than what is needed.
pub(super) fn to_fetch(touched: Touched, earliest: DateTime<Utc>) -> TimeRange {
    let from = touched
        .window
        .start()
        .max(earliest)
        .min(touched.needed.start());
    TimeRange::new(from, touched.window.end()).unwrap_or(touched.needed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).expect("time").to_utc()
    }

    fn range(start: &str, end: &str) -> TimeRange {
        TimeRange::new(at(start), at(end)).expect("range")
    }

    #[test]
    fn a_week_question_touches_the_utc_weeks_it_overlaps() {
        // 2030-01-02 is a Wednesday: its week starts Monday 2029-12-31.
        let windows = touched(
            range("2030-01-02T10:30:15.5Z", "2030-01-09T10:30:15.5Z"),
            TimeDelta::days(7),
        );
        assert_eq!(
            windows,
            vec![
                Touched {
                    window: range("2029-12-31T00:00:00Z", "2030-01-07T00:00:00Z"),
                    needed: range("2030-01-02T10:30:15.5Z", "2030-01-07T00:00:00Z"),
                },
                Touched {
                    window: range("2030-01-07T00:00:00Z", "2030-01-14T00:00:00Z"),
                    needed: range("2030-01-07T00:00:00Z", "2030-01-09T10:30:15.5Z"),
                },
            ]
        );
        let monday = touched(
            range("2030-01-07T00:00:00Z", "2030-01-14T00:00:00Z"),
            TimeDelta::days(7),
        );
        assert_eq!(monday.len(), 1, "a calendar week is one window");
        let days = touched(
            range("2030-01-07T00:00:00Z", "2030-01-14T00:00:00Z"),
            TimeDelta::days(1),
        );
        assert_eq!(days.len(), 7);
        assert_eq!(
            days[3].window,
            range("2030-01-10T00:00:00Z", "2030-01-11T00:00:00Z")
        );
    }

    #[test]
    fn the_fetch_starts_at_the_earliest_askable_time_never_after_the_need() {
        let week = touched(
            range("2030-01-02T12:00:00Z", "2030-01-03T00:00:00Z"),
            TimeDelta::days(7),
        )[0];
        assert_eq!(
            to_fetch(week, at("2029-12-01T00:00:00Z")),
            range("2029-12-31T00:00:00Z", "2030-01-07T00:00:00Z"),
            "a window wholly ahead is fetched whole"
        );
        assert_eq!(
            to_fetch(week, at("2030-01-01T08:00:00Z")),
            range("2030-01-01T08:00:00Z", "2030-01-07T00:00:00Z"),
            "the current window from the earliest askable time"
        );
        assert_eq!(
            to_fetch(week, at("2030-01-02T12:00:01Z")),
            range("2030-01-02T12:00:00Z", "2030-01-07T00:00:00Z"),
            "never later than the need"
        );
    }
}
