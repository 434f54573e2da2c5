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
    fn joined_json(&self, within: &Range<usize>) -> Option<JsonPiece<'_>> {
        let (joined, starts) = self.joined.as_ref()?;
        let first = *starts.get(within.start)? as usize;
        let last = self.times.get(within.end.checked_sub(1)?)?;
        let end = *starts.get(within.end - 1)? as usize + last.json.as_bytes().len();
        joined
            .get(first..end)
            .map(|_| JsonPiece::Run(joined, first..end))
    }
}

/// A piece of an answer's JSON: one time's, or a run's, comma-separated; in the buffer it
/// was read into or written in, which the piece can share without a copy.
#[derive(Debug, Clone)]
pub enum JsonPiece<'a> {
    One(&'a RawJson),
    Run(&'a Bytes, Range<usize>),
}

impl JsonPiece<'_> {
    /// The piece, sharing its buffer.
    pub fn shared(&self) -> Bytes {
        match self {
            Self::One(json) => json.shared(),
            Self::Run(bytes, within) => bytes.slice(within.clone()),
        }
    }
}

impl AsRef<[u8]> for JsonPiece<'_> {
    fn as_ref(&self) -> &[u8] {
        match self {
            Self::One(json) => json.as_bytes(),
            Self::Run(bytes, within) => &bytes[within.clone()],
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
                Some(joined) => (Some(joined), &[][..]),
                None => (None, &times.times[within.clone()]),
            };
            joined
                .into_iter()
                .chain(each.iter().map(|time| JsonPiece::One(&time.json)))
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

impl AvailableTimes {
    /// As [`AvailableTimes::from`], with `buffer` kept as the one piece their JSON is written
    /// in when it lies there one after another, comma-separated (see [`TimeList::joined`]):
    /// a provider's answer read in place.
    pub fn joined(times: Vec<AvailableTime>, buffer: Bytes) -> Self {
        if !times.is_sorted_by(|a, b| a.start_time < b.start_time) {
            return times.into();
        }
        let len = times.len();
        Self::shared(Arc::new(TimeList::joined(times, buffer)), 0..len)
    }
}

impl FromIterator<AvailableTime> for AvailableTimes {
    fn from_iter<I: IntoIterator<Item = AvailableTime>>(times: I) -> Self {
        times.into_iter().collect::<Vec<_>>().into()
    }
}

#[cfg(test)]
#[path = "available_tests.rs"]
mod tests;
