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

/// How the windows of `parts` (each touching the next, all missing) are fetched: in calls of
/// at most `span`, each a run of consecutive windows, from the earliest time it may ask about
/// to the end of its last window where that fits in `span`, and at least to the end of what is
/// needed. Returns each call's windows (indices into `parts`) and its range.
pub(super) fn fetches(
    parts: &[Touched],
    earliest: DateTime<Utc>,
    span: TimeDelta,
) -> Vec<(std::ops::Range<usize>, TimeRange)> {
    let mut calls = Vec::new();
    let mut first = 0;
    while first < parts.len() {
        let needed_from = parts[first].needed.start();
        let mut last = first;
        while last + 1 < parts.len() && parts[last + 1].needed.end() - needed_from <= span {
            last += 1;
        }
        let from = to_fetch(parts[first], earliest).start();
        let needed_until = parts[last].needed.end();
        let until = parts[last].window.end().min(from + span).max(needed_until);
        // Never later than the need: a window is never longer than `span`.
        let from = from.max(until - span).min(needed_from);
        let range = TimeRange::new(from, until).unwrap_or(parts[first].needed);
        calls.push((first..last + 1, range));
        first = last + 1;
    }
    calls
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

    #[test]
    fn missing_windows_are_fetched_together_up_to_the_span() {
        let earliest = at("2030-01-02T10:00:00Z");
        let month = range("2030-01-02T10:00:00Z", "2030-02-02T10:00:00Z");
        let parts = touched(month, TimeDelta::days(7));
        assert_eq!(parts.len(), 5, "31 days touch five weeks");
        assert_eq!(
            fetches(&parts, earliest, TimeDelta::days(31)),
            vec![(0..5, month)],
            "one call: from the earliest askable time, to the end of the need"
        );
        let week = range("2030-01-09T12:00:00Z", "2030-01-16T12:00:00Z");
        assert_eq!(
            fetches(
                &touched(week, TimeDelta::days(7)),
                earliest,
                TimeDelta::days(31)
            ),
            vec![(0..2, range("2030-01-07T00:00:00Z", "2030-01-21T00:00:00Z"))],
            "whole weeks where they fit"
        );
        assert_eq!(
            fetches(
                &touched(week, TimeDelta::days(7)),
                earliest,
                TimeDelta::days(7)
            ),
            vec![(0..2, week)],
            "cut to the span, the need kept whole"
        );
        let year = range("2030-01-02T10:00:00Z", "2031-01-02T10:00:00Z");
        let calls = fetches(
            &touched(year, TimeDelta::days(7)),
            earliest,
            TimeDelta::days(31),
        );
        assert_eq!(
            calls.len(),
            14,
            "whole weeks each call, 28 days after the first"
        );
        assert!(
            calls
                .iter()
                .all(|(_, fetch)| fetch.duration() <= TimeDelta::days(31))
        );
        assert!(
            calls
                .windows(2)
                .all(|pair| pair[0].1.end() >= pair[1].1.start()),
            "nothing left out between calls"
        );
    }
}
