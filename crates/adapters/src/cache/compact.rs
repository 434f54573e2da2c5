//! Available times held in little memory: a window's slots mostly differ only in their time,
//! so each is kept as its start and a shared skeleton, the slot's JSON with every writing of
//! its own start time (in the forms Calendly uses) replaced by a marker. The JSON given back
//! is, byte for byte, the JSON that came in.
//!
//! A window read is also kept written out in full, ready to serve, while the store's
//! [`ReadyBudget`] has room: then an answer from it is a reference to the times it needs
//! rather than each one written anew.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, OnceLock};

use bytes::{BufMut, Bytes, BytesMut};
use chrono::{DateTime, Utc};
use domain::{AvailableTime, AvailableTimes, RawJson, TimeList, TimeRange};

use super::ready::{ReadyBudget, Reservation};
#[cfg(test)]
use super::skeleton::write_form;
use super::skeleton::{Skeleton, expand, skeleton};

/// A window's available times, sorted by start: each a whole second after the first's (`base`),
/// with its skeleton's index; the sub-second parts kept apart, and only when there are any.
#[derive(Debug)]
pub(super) struct CompactTimes {
    /// Shared with the other windows of the subject when they are the same (as usual).
    skeletons: Arc<[Skeleton]>,
    base: i64,
    /// Each slot's seconds after `base`.
    offsets: Box<[u32]>,
    /// Each slot's skeleton; empty when there is only one (as usual).
    skeleton_of: Box<[u32]>,
    /// Each slot's nanoseconds; empty when all are whole seconds (Calendly's are minutes).
    nanos: Box<[u32]>,
    /// Every time written out, once read while the budget had room.
    ready: OnceLock<Ready>,
}

/// A window's times written out, and the budget's bytes they hold.
struct Ready {
    times: Arc<TimeList>,
    _held: Reservation,
}

impl fmt::Debug for Ready {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Ready({} times)", self.times.times().len())
    }
}

/// A copy is not kept ready (until it is read).
impl Clone for CompactTimes {
    fn clone(&self) -> Self {
        Self {
            skeletons: Arc::clone(&self.skeletons),
            base: self.base,
            offsets: self.offsets.clone(),
            skeleton_of: self.skeleton_of.clone(),
            nanos: self.nanos.clone(),
            ready: OnceLock::new(),
        }
    }
}

/// The same times, whether kept ready or not.
impl PartialEq for CompactTimes {
    fn eq(&self, other: &Self) -> bool {
        self.skeletons == other.skeletons
            && self.base == other.base
            && self.offsets == other.offsets
            && self.skeleton_of == other.skeleton_of
            && self.nanos == other.nanos
    }
}

impl Eq for CompactTimes {}

impl CompactTimes {
    /// The times of `times` that start within `fetched` (the window asked for: nothing else
    /// is ever answered from it).
    pub(super) fn new(mut times: Vec<AvailableTime>, fetched: TimeRange) -> Self {
        times.retain(|time| time.start_time >= fetched.start() && time.start_time < fetched.end());
        times.sort_by_key(|time| time.start_time);
        let base = times.first().map_or(0, |time| time.start_time.timestamp());
        let mut index: HashMap<Skeleton, u32> = HashMap::new();
        let mut skeletons: Vec<Skeleton> = Vec::new();
        let mut slots: Vec<(u32, u32)> = Vec::with_capacity(times.len());
        let mut last: Option<u32> = None;
        for time in &times {
            // Within one window (a week at most) of the first: always fits.
            let offset = u32::try_from(time.start_time.timestamp() - base).unwrap_or(u32::MAX);
            // Slots next to each other mostly share their skeleton: the previous one is tried
            // first, kept when it writes this time's JSON and URL exactly.
            if let Some(at) = last.filter(|at| skeletons[*at as usize].writes(time)) {
                slots.push((offset, at));
                continue;
            }
            let skeleton = Skeleton {
                json: skeleton(time.json.as_bytes(), time.start_time),
                url: time
                    .booking_url
                    .as_ref()
                    .map(|url| skeleton(url.as_bytes(), time.start_time)),
                seats: time.seats_left,
            };
            let next = u32::try_from(skeletons.len()).unwrap_or(u32::MAX);
            let at = *index.entry(skeleton.clone()).or_insert_with(|| {
                skeletons.push(skeleton);
                next
            });
            last = Some(at);
            slots.push((offset, at));
        }
        let nanos: Box<[u32]> = if times
            .iter()
            .all(|t| t.start_time.timestamp_subsec_nanos() == 0)
        {
            Box::default()
        } else {
            times
                .iter()
                .map(|t| t.start_time.timestamp_subsec_nanos())
                .collect()
        };
        let skeleton_of = if skeletons.len() > 1 {
            slots.iter().map(|(_, skeleton)| *skeleton).collect()
        } else {
            Box::default()
        };
        Self {
            skeletons: Arc::from(skeletons),
            base,
            offsets: slots.iter().map(|(offset, _)| *offset).collect(),
            skeleton_of,
            nanos,
            ready: OnceLock::new(),
        }
    }

    /// The same times sharing `other`'s skeletons, when they are the same and not shared yet.
    pub(super) fn sharing(&self, other: &Self) -> Option<Self> {
        (!Arc::ptr_eq(&self.skeletons, &other.skeletons) && self.skeletons == other.skeletons).then(
            || Self {
                skeletons: Arc::clone(&other.skeletons),
                ..self.clone()
            },
        )
    }

    /// Bytes held, roughly.
    pub(super) fn size(&self) -> usize {
        self.skeletons
            .iter()
            .map(|s| s.json.len() + s.url.as_ref().map_or(0, |url| url.len() + 16) + 40)
            .sum::<usize>()
            + (self.offsets.len() + self.skeleton_of.len()) * 4
            + self.nanos.len() * 4
            + 64
    }

    /// The start of slot `at`.
    fn start(&self, at: usize) -> DateTime<Utc> {
        let nanos = self.nanos.get(at).copied().unwrap_or(0);
        DateTime::from_timestamp(self.base + i64::from(self.offsets[at]), nanos).unwrap_or_default()
    }

    /// The skeleton of slot `at`.
    fn skeleton(&self, at: usize) -> Option<&Skeleton> {
        let index = self.skeleton_of.get(at).copied().unwrap_or(0);
        self.skeletons.get(index as usize)
    }

    /// The times starting within `range`, in order, each with its JSON as it came: shared
    /// with the window's times kept ready, which are written out here if `budget` has room.
    pub(super) fn within(&self, range: TimeRange, budget: &Arc<ReadyBudget>) -> AvailableTimes {
        let ready = match self.ready.get() {
            Some(ready) => Some(Arc::clone(&ready.times)),
            None => {
                let size = self.ready_size();
                budget.has_room(size).then(|| {
                    let (times, joined) = self.written_joined(0..self.offsets.len());
                    let times = Arc::new(TimeList::joined(times, joined));
                    if let Some(held) = budget.reserve(size) {
                        // Written by another reader meanwhile: its copy is kept, this one's
                        // bytes given back.
                        let _ = self.ready.set(Ready {
                            times: Arc::clone(&times),
                            _held: held,
                        });
                    }
                    times
                })
            }
        };
        match ready {
            // The ready times are the window's slots in the same order: searched in the
            // compact form, a few bytes a slot rather than a whole time's.
            Some(times) => AvailableTimes::shared(times, self.slots_within(range)),
            None => self.written_within(range).into(),
        }
    }

    /// The times starting within `range`, in order, each written out anew.
    pub(super) fn written_within(&self, range: TimeRange) -> Vec<AvailableTime> {
        self.written(self.slots_within(range))
    }

    /// The slots starting within `range`.
    fn slots_within(&self, range: TimeRange) -> std::ops::Range<usize> {
        let first = self.slots_before(range.start());
        let last = self.slots_before(range.end());
        first..last.max(first)
    }

    /// How many slots start before `time`: a search of the seconds (and nanoseconds) after
    /// `base`, without making a time of each slot looked at.
    fn slots_before(&self, time: DateTime<Utc>) -> usize {
        let (seconds, nanos) = (time.timestamp() - self.base, time.timestamp_subsec_nanos());
        partition(self.offsets.len(), |at| {
            let slot_nanos = self.nanos.get(at).copied().unwrap_or(0);
            (i64::from(self.offsets[at]), slot_nanos) < (seconds, nanos)
        })
    }

    /// What the times kept ready take, roughly: each time, its JSON and its booking URL.
    fn ready_size(&self) -> usize {
        let per_skeleton = |skeleton: &Skeleton| {
            std::mem::size_of::<AvailableTime>()
                + skeleton.json.len()
                + skeleton.url.as_ref().map_or(0, |url| url.len() + 32)
        };
        let slots = self.offsets.len();
        let written = if self.skeleton_of.is_empty() {
            self.skeletons.first().map_or(0, per_skeleton) * slots
        } else {
            self.skeleton_of
                .iter()
                .filter_map(|at| self.skeletons.get(*at as usize))
                .map(per_skeleton)
                .sum()
        };
        written + 64
    }

    /// The times `at` in order, each written out.
    fn written(&self, at: std::ops::Range<usize>) -> Vec<AvailableTime> {
        self.written_joined(at).0
    }

    /// The times `at` in order, each written out, and the buffer they are written in: their
    /// JSON one after another, comma-separated.
    fn written_joined(&self, at: std::ops::Range<usize>) -> (Vec<AvailableTime>, Bytes) {
        let (first, last) = (at.start, at.end);
        let json_of = |at| self.skeleton(at).map_or(&[][..], |skeleton| &skeleton.json);
        let mut buffer =
            BytesMut::with_capacity((first..last).map(|at| json_of(at).len() + 64).sum());
        let mut ends = Vec::with_capacity(last - first);
        for at in first..last {
            if at > first {
                buffer.put_u8(b',');
            }
            expand(&mut buffer, json_of(at), self.start(at));
            ends.push(buffer.len());
        }
        let whole: Bytes = buffer.freeze();
        let mut begin = 0;
        let times = (first..last)
            .zip(ends)
            .map(|(at, end)| {
                let json = RawJson::parsed(whole.slice(begin..end));
                // Past the comma before the next.
                begin = end + 1;
                let start_time = self.start(at);
                let skeleton = self.skeleton(at);
                AvailableTime {
                    start_time,
                    seats_left: skeleton.and_then(|skeleton| skeleton.seats),
                    booking_url: skeleton
                        .and_then(|skeleton| skeleton.url.as_deref())
                        .and_then(|url| {
                            let mut written = Vec::with_capacity(url.len() + 16);
                            expand(&mut written, url, start_time);
                            String::from_utf8(written).ok()
                        }),
                    json,
                }
            })
            .collect();
        (times, whole)
    }
}

/// The first of `0..len` for which `before` is false (`before` holds for a prefix).
fn partition(len: usize, before: impl Fn(usize) -> bool) -> usize {
    let (mut low, mut high) = (0, len);
    while low < high {
        let middle = low + (high - low) / 2;
        if before(middle) {
            low = middle + 1;
        } else {
            high = middle;
        }
    }
    low
}

#[cfg(test)]
#[path = "compact_tests.rs"]
mod tests;
