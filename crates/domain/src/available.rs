//! Available times: each one as the gateway reads it, and a question's answer as runs of them
//! shared with whoever keeps them (a cache hands out what it holds without copying each time).

use std::ops::Range;
use std::sync::Arc;

use bytes::Bytes;
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
    runs: Vec<(Arc<TimeList>, Range<usize>)>,
}

/// A list of times that answers share: sorted by start, each start once; with, when they were
/// written so, their JSON one after another, comma-separated, in one buffer, so that a run of
/// them is written out as one piece.
#[derive(Debug)]
pub struct TimeList {
    times: Box<[AvailableTime]>,
    /// The buffer, and where each time's JSON begins in it.
    joined: Option<(Bytes, Box<[u32]>)>,
}

impl TimeList {
    pub fn new(times: impl Into<Box<[AvailableTime]>>) -> Self {
        Self {
            times: times.into(),
            joined: None,
        }
    }

    /// `times` whose JSON are parts of `joined`, in order, each followed by a comma but the
    /// last; kept without the buffer when they are not.
    pub fn joined(times: impl Into<Box<[AvailableTime]>>, joined: Bytes) -> Self {
        let times = times.into();
        let base = joined.as_ptr() as usize;
        let mut starts = Vec::with_capacity(times.len());
        let mut next = 0;
        for (at, time) in times.iter().enumerate() {
            let json = time.json.as_bytes();
            let begins = (json.as_ptr() as usize).wrapping_sub(base);
            let ends = begins.saturating_add(json.len());
            let last = at + 1 == times.len();
            let laid_out =
                begins == next && ends <= joined.len() && (last || joined.get(ends) == Some(&b','));
            match u32::try_from(begins) {
                Ok(begins) if laid_out => starts.push(begins),
                _ => return Self::new(times),
            }
            next = ends + 1;
        }
        Self {
            times,
            joined: Some((joined, starts.into())),
        }
    }

    pub fn times(&self) -> &[AvailableTime] {
        &self.times
    }

    /// The JSON of `self.times[within]`, comma-separated, as one piece when written so.
    fn joined_json(&self, within: &Range<usize>) -> Option<Bytes> {
        let (joined, starts) = self.joined.as_ref()?;
        let first = *starts.get(within.start)? as usize;
        let last = self.times.get(within.end.checked_sub(1)?)?;
        let end = *starts.get(within.end - 1)? as usize + last.json.as_bytes().len();
        Some(joined.slice(first..end))
    }
}

/// A piece of an answer's JSON: one time's, or a run's, comma-separated.
#[derive(Debug, Clone)]
pub enum JsonPiece<'a> {
    One(&'a [u8]),
    Run(Bytes),
}

impl AsRef<[u8]> for JsonPiece<'_> {
    fn as_ref(&self) -> &[u8] {
        match self {
            Self::One(bytes) => bytes,
            Self::Run(bytes) => bytes,
        }
    }
}

impl AvailableTimes {
    /// `times[within]`, which must be sorted by start with each start once (as a list made by
    /// [`AvailableTimes::from`] is).
    pub fn shared(times: Arc<TimeList>, within: Range<usize>) -> Self {
        let len = times.times.len();
        let within = within.start.min(len)..within.end.min(len);
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
            .flat_map(|(times, within)| &times.times[within.clone()])
    }

    /// The times' JSON in pieces, in order: to be written one after another, comma-separated.
    pub fn json_pieces(&self) -> impl Iterator<Item = JsonPiece<'_>> + Clone {
        self.runs.iter().flat_map(|(times, within)| {
            let (joined, each) = match times.joined_json(within) {
                Some(joined) => (Some(JsonPiece::Run(joined)), &[][..]),
                None => (None, &times.times[within.clone()]),
            };
            joined
                .into_iter()
                .chain(each.iter().map(|time| JsonPiece::One(time.json.as_bytes())))
        })
    }

    pub fn len(&self) -> usize {
        self.runs.iter().map(|(_, within)| within.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.runs.is_empty()
    }

    /// The times that start at `earliest` or later: those before are dropped.
    pub fn starting_at(mut self, earliest: DateTime<Utc>) -> Self {
        if self.first_start().is_none_or(|first| first >= earliest) {
            // As usual: nothing to drop.
            return self;
        }
        let dropped = self
            .runs
            .iter()
            .position(|(times, within)| times.times[within.end - 1].start_time >= earliest)
            .unwrap_or(self.runs.len());
        self.runs.drain(..dropped);
        if let Some((times, within)) = self.runs.first_mut() {
            let skip =
                times.times[within.clone()].partition_point(|time| time.start_time < earliest);
            within.start += skip;
        }
        self
    }

    /// The times in a list of their own.
    pub fn to_vec(&self) -> Vec<AvailableTime> {
        self.iter().cloned().collect()
    }

    fn first_start(&self) -> Option<DateTime<Utc>> {
        self.runs
            .first()
            .map(|(times, within)| times.times[within.start].start_time)
    }

    fn last_start(&self) -> Option<DateTime<Utc>> {
        self.runs
            .last()
            .map(|(times, within)| times.times[within.end - 1].start_time)
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
        Self::shared(Arc::new(TimeList::new(times)), 0..len)
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
        let first = Arc::new(TimeList::new(vec![at(9, "a"), at(10, "a"), at(11, "a")]));
        let second = Arc::new(TimeList::new(vec![at(12, "b"), at(13, "b")]));
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
        let times = Arc::new(TimeList::new(vec![at(9, "a")]));
        assert_eq!(AvailableTimes::shared(Arc::clone(&times), 0..5).len(), 1);
        assert!(AvailableTimes::shared(times, 3..5).is_empty());
    }

    #[test]
    fn starting_at_drops_what_starts_before_across_runs() {
        let first = Arc::new(TimeList::new(vec![at(9, "a"), at(10, "a")]));
        let second = Arc::new(TimeList::new(vec![at(11, "b"), at(12, "b")]));
        let times = AvailableTimes::merged([
            AvailableTimes::shared(first, 0..2),
            AvailableTimes::shared(second, 0..2),
        ]);
        let hour = |hour| Utc.with_ymd_and_hms(2030, 1, 2, hour, 0, 0).unwrap();
        let tagged = |tags: &[&str]| -> Vec<String> {
            tags.iter()
                .map(|tag| format!(r#"{{"t":"{tag}"}}"#))
                .collect()
        };
        assert_eq!(
            tags(&times.clone().starting_at(hour(8))),
            tagged(&["a9", "a10", "b11", "b12"])
        );
        assert_eq!(
            tags(&times.clone().starting_at(hour(10))),
            tagged(&["a10", "b11", "b12"])
        );
        assert_eq!(
            tags(&times.clone().starting_at(hour(11))),
            tagged(&["b11", "b12"])
        );
        let last = times.clone().starting_at(hour(12));
        assert_eq!(tags(&last), tagged(&["b12"]));
        assert_eq!(last.len(), 1);
        assert!(times.starting_at(hour(13)).is_empty());
    }

    /// Times written one after another in one buffer, comma-separated, as a cache writes them.
    fn joined(hours: &[u32]) -> (Vec<AvailableTime>, Bytes) {
        let texts: Vec<String> = hours
            .iter()
            .map(|hour| format!(r#"{{"t":"j{hour}"}}"#))
            .collect();
        let whole = Bytes::from(texts.join(","));
        let mut begin = 0;
        let times = hours
            .iter()
            .zip(&texts)
            .map(|(hour, text)| {
                let json = RawJson::parsed(whole.slice(begin..begin + text.len()));
                begin += text.len() + 1;
                AvailableTime {
                    json,
                    ..at(*hour, "j")
                }
            })
            .collect();
        (times, whole)
    }

    fn written(times: &AvailableTimes) -> (String, usize) {
        let pieces: Vec<JsonPiece<'_>> = times.json_pieces().collect();
        let text = pieces
            .iter()
            .map(|piece| String::from_utf8(piece.as_ref().to_vec()).expect("utf-8"))
            .collect::<Vec<_>>()
            .join(",");
        (text, pieces.len())
    }

    #[test]
    fn a_run_of_a_joined_list_is_written_as_one_piece() {
        let (times, whole) = joined(&[9, 10, 11, 12]);
        let list = Arc::new(TimeList::joined(times, whole));
        let hour = |hour| Utc.with_ymd_and_hms(2030, 1, 2, hour, 0, 0).unwrap();
        let all = AvailableTimes::shared(Arc::clone(&list), 0..4);
        assert_eq!(
            written(&all),
            (
                r#"{"t":"j9"},{"t":"j10"},{"t":"j11"},{"t":"j12"}"#.to_owned(),
                1
            )
        );
        let middle = AvailableTimes::shared(Arc::clone(&list), 1..3);
        assert_eq!(
            written(&middle),
            (r#"{"t":"j10"},{"t":"j11"}"#.to_owned(), 1)
        );
        assert_eq!(
            written(&all.starting_at(hour(12))),
            (r#"{"t":"j12"}"#.to_owned(), 1)
        );
        let plain = AvailableTimes::from(vec![at(13, "p"), at(14, "p")]);
        let both = AvailableTimes::merged([middle, plain]);
        assert_eq!(
            written(&both),
            (
                r#"{"t":"j10"},{"t":"j11"},{"t":"p13"},{"t":"p14"}"#.to_owned(),
                3
            ),
            "a list not joined is written time by time"
        );
    }

    #[test]
    fn a_list_not_laid_out_in_its_buffer_is_kept_without_it() {
        let (mut times, whole) = joined(&[9, 10, 11]);
        times.swap(0, 1);
        times.swap(0, 2);
        let list = Arc::new(TimeList::joined(times, whole.clone()));
        assert!(list.joined.is_none(), "out of order");
        let (times, _) = joined(&[9, 10]);
        let list = Arc::new(TimeList::joined(times, Bytes::from_static(b"elsewhere")));
        assert!(list.joined.is_none(), "another buffer");
        let list = AvailableTimes::shared(list, 0..2);
        assert_eq!(written(&list), (r#"{"t":"j9"},{"t":"j10"}"#.to_owned(), 2));
    }
}
