//! Available times: each one as the gateway reads it, and a question's answer as runs of them
//! shared with whoever keeps them (a cache hands out what it holds without copying each time).

use std::ops::Range;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::model::RawJson;

/// A time an event type can be booked: what the gateway reads of it, beside the provider's
/// object as it was written (which clients receive whole).
#[derive(Debug, Clone)]
pub struct AvailableTime {
    pub start_time: DateTime<Utc>,
    /// How many more invitees may book it, when the provider said.
    pub seats_left: Option<u64>,
    /// Where a visitor books it on the provider's own page, when the provider said.
    pub booking_url: Option<String>,
    pub json: RawJson,
}

/// Available times sorted by start, each start once: runs of shared lists, so that an answer
/// made of what is kept elsewhere costs a reference per run rather than a copy per time.
#[derive(Debug, Clone, Default)]
pub struct AvailableTimes {
    runs: Vec<(Arc<[AvailableTime]>, Range<usize>)>,
}

impl AvailableTimes {
    /// `times[within]`, which must be sorted by start with each start once (as a list made by
    /// [`AvailableTimes::from`] is).
    pub fn shared(times: Arc<[AvailableTime]>, within: Range<usize>) -> Self {
        let within = within.start.min(times.len())..within.end.min(times.len());
        if within.is_empty() {
            return Self::default();
        }
        Self {
            runs: vec![(times, within)],
        }
    }

    /// The times in order.
    pub fn iter(&self) -> impl Iterator<Item = &AvailableTime> + Clone {
        self.runs
            .iter()
            .flat_map(|(times, within)| &times[within.clone()])
    }

    pub fn len(&self) -> usize {
        self.runs.iter().map(|(_, within)| within.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.runs.is_empty()
    }

    /// The times in a list of their own.
    pub fn to_vec(&self) -> Vec<AvailableTime> {
        self.iter().cloned().collect()
    }

    fn first_start(&self) -> Option<DateTime<Utc>> {
        self.runs
            .first()
            .map(|(times, within)| times[within.start].start_time)
    }

    fn last_start(&self) -> Option<DateTime<Utc>> {
        self.runs
            .last()
            .map(|(times, within)| times[within.end - 1].start_time)
    }

    /// The times of every piece, sorted by start, each start once (the first piece's when two
    /// give one start): the pieces' runs as they are when each begins after the one before
    /// ends (as the pieces of a range asked in order do), a new list otherwise.
    pub fn merged(pieces: impl IntoIterator<Item = Self>) -> Self {
        let mut merged = Self::default();
        let mut in_order = true;
        let mut pieces = pieces.into_iter();
        for piece in pieces.by_ref() {
            if piece.is_empty() {
                continue;
            }
            if merged.last_start() >= piece.first_start() {
                in_order = false;
                merged.runs.extend(piece.runs);
                break;
            }
            merged.runs.extend(piece.runs);
        }
        if in_order {
            return merged;
        }
        merged
            .iter()
            .cloned()
            .chain(pieces.flat_map(|piece| piece.iter().cloned().collect::<Vec<_>>()))
            .collect::<Vec<_>>()
            .into()
    }
}

impl From<Vec<AvailableTime>> for AvailableTimes {
    /// Sorted by start, each start once (the first given).
    fn from(mut times: Vec<AvailableTime>) -> Self {
        if !times.is_sorted_by(|a, b| a.start_time < b.start_time) {
            times.sort_by_key(|time| time.start_time);
            times.dedup_by_key(|time| time.start_time);
        }
        let len = times.len();
        Self::shared(Arc::from(times), 0..len)
    }
}

impl FromIterator<AvailableTime> for AvailableTimes {
    fn from_iter<I: IntoIterator<Item = AvailableTime>>(times: I) -> Self {
        times.into_iter().collect::<Vec<_>>().into()
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use chrono::TimeZone;

    use super::*;

    fn at(hour: u32, tag: &str) -> AvailableTime {
        AvailableTime {
            start_time: Utc.with_ymd_and_hms(2030, 1, 2, hour, 0, 0).unwrap(),
            seats_left: None,
            booking_url: None,
            json: RawJson::parsed(Bytes::from(format!(r#"{{"t":"{tag}{hour}"}}"#))),
        }
    }

    fn tags(times: &AvailableTimes) -> Vec<String> {
        times
            .iter()
            .map(|time| time.json.text().into_owned())
            .collect()
    }

    #[test]
    fn a_list_is_sorted_and_each_start_kept_once() {
        let times = AvailableTimes::from(vec![at(11, "a"), at(9, "a"), at(11, "b"), at(10, "a")]);
        assert_eq!(
            tags(&times),
            [r#"{"t":"a9"}"#, r#"{"t":"a10"}"#, r#"{"t":"a11"}"#]
        );
        assert_eq!(times.len(), 3);
    }

    #[test]
    fn pieces_in_order_are_their_runs_shared() {
        let first: Arc<[AvailableTime]> = Arc::from(vec![at(9, "a"), at(10, "a"), at(11, "a")]);
        let second: Arc<[AvailableTime]> = Arc::from(vec![at(12, "b"), at(13, "b")]);
        let merged = AvailableTimes::merged([
            AvailableTimes::shared(Arc::clone(&first), 1..3),
            AvailableTimes::default(),
            AvailableTimes::shared(Arc::clone(&second), 0..1),
        ]);
        assert_eq!(
            tags(&merged),
            [r#"{"t":"a10"}"#, r#"{"t":"a11"}"#, r#"{"t":"b12"}"#]
        );
        assert_eq!(merged.runs.len(), 2);
        assert!(Arc::ptr_eq(&merged.runs[0].0, &first));
    }

    #[test]
    fn overlapping_pieces_are_sorted_and_each_start_kept_once_from_the_first() {
        let merged = AvailableTimes::merged([
            AvailableTimes::from(vec![at(9, "a"), at(11, "a")]),
            AvailableTimes::from(vec![at(10, "b"), at(11, "b"), at(12, "b")]),
            AvailableTimes::from(vec![at(8, "c")]),
        ]);
        assert_eq!(
            tags(&merged),
            [
                r#"{"t":"c8"}"#,
                r#"{"t":"a9"}"#,
                r#"{"t":"b10"}"#,
                r#"{"t":"a11"}"#,
                r#"{"t":"b12"}"#
            ]
        );
    }

    #[test]
    fn a_range_outside_the_list_is_cut_to_it() {
        let times: Arc<[AvailableTime]> = Arc::from(vec![at(9, "a")]);
        assert_eq!(AvailableTimes::shared(Arc::clone(&times), 0..5).len(), 1);
        assert!(AvailableTimes::shared(times, 3..5).is_empty());
    }
}
