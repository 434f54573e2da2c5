//! A validated span of time and how it is cut into pieces Calendly accepts.

use chrono::{DateTime, TimeDelta, Utc};

/// A half-open span `[start, end)` with `end > start`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeRange {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
}

impl TimeRange {
    /// `None` when `end` is not after `start`.
    pub fn new(start: DateTime<Utc>, end: DateTime<Utc>) -> Option<Self> {
        (end > start).then_some(Self { start, end })
    }

    pub fn start(&self) -> DateTime<Utc> {
        self.start
    }

    pub fn end(&self) -> DateTime<Utc> {
        self.end
    }

    pub fn duration(&self) -> TimeDelta {
        self.end - self.start
    }

    /// The part of the range from `now` on; `None` when all of it is over.
    pub fn not_before(self, now: DateTime<Utc>) -> Option<Self> {
        Self::new(self.start.max(now), self.end)
    }

    /// Consecutive pieces of at most `max_len` each, covering the range exactly.
    pub fn split(self, max_len: TimeDelta) -> Vec<Self> {
        assert!(max_len > TimeDelta::zero(), "a piece must have a length");
        let mut pieces = Vec::with_capacity(
            usize::try_from(self.duration().num_seconds() / max_len.num_seconds().max(1) + 1)
                .unwrap_or(1),
        );
        let mut start = self.start;
        while start < self.end {
            let end = (start + max_len).min(self.end);
            pieces.push(Self { start, end });
            start = end;
        }
        pieces
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("valid time")
            .to_utc()
    }

    #[test]
    fn end_must_follow_start() {
        let t = at("2030-01-01T00:00:00Z");
        assert!(TimeRange::new(t, t).is_none());
        assert!(TimeRange::new(t, t - TimeDelta::seconds(1)).is_none());
        assert!(TimeRange::new(t, t + TimeDelta::seconds(1)).is_some());
    }

    #[test]
    fn split_covers_the_range_in_consecutive_pieces() {
        let range = TimeRange::new(at("2030-01-01T00:00:00Z"), at("2030-03-05T12:00:00Z"))
            .expect("valid range");
        let pieces = range.split(TimeDelta::days(31));
        assert_eq!(pieces.len(), 3);
        assert_eq!(pieces[0].start(), range.start());
        assert_eq!(pieces[0].end(), at("2030-02-01T00:00:00Z"));
        assert_eq!(pieces[1].start(), pieces[0].end());
        assert_eq!(pieces[2].end(), range.end());
        assert!(pieces.iter().all(|p| p.duration() <= TimeDelta::days(31)));
    }

    #[test]
    fn a_short_range_is_one_piece() {
        let range = TimeRange::new(at("2030-01-01T00:00:00Z"), at("2030-01-08T00:00:00Z"))
            .expect("valid range");
        assert_eq!(range.split(TimeDelta::days(31)), vec![range]);
        assert_eq!(range.split(TimeDelta::days(7)), vec![range]);
    }

    #[test]
    fn not_before_moves_a_past_start_and_drops_a_past_range() {
        let range = TimeRange::new(at("2030-01-01T00:00:00Z"), at("2030-01-08T00:00:00Z"))
            .expect("valid range");
        let now = at("2030-01-03T10:00:00Z");
        let moved = range.not_before(now).expect("part of it is ahead");
        assert_eq!(moved.start(), now);
        assert_eq!(moved.end(), range.end());
        assert_eq!(range.not_before(at("2029-01-01T00:00:00Z")), Some(range));
        assert_eq!(range.not_before(at("2030-01-08T00:00:00Z")), None);
    }
}
