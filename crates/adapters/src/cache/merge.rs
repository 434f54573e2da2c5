//! Two parts of one window that meet, made one: the part loaded later wins where they overlap.

use std::sync::Arc;

use domain::{BusyTime, TimeRange};

use super::compact::CompactTimes;
use super::shard::Covered;

/// The available times of `since` (loaded later), and those of `before` outside it.
pub(super) fn merged_times(
    before: &Covered<CompactTimes>,
    since: &Covered<CompactTimes>,
) -> CompactTimes {
    let part = |covered: &Covered<CompactTimes>, from, until| {
        TimeRange::new(from, until)
            .map_or_else(Vec::new, |range| covered.data.written_within(range))
    };
    let mut times = part(before, before.from, since.from);
    times.extend(part(since, since.from, since.until));
    times.extend(part(before, since.until, before.until));
    let (from, until) = (before.from.min(since.from), before.until.max(since.until));
    match TimeRange::new(from, until) {
        Some(held) => CompactTimes::new(times, held),
        None => since.data.clone(),
    }
}

/// The busy times of `since`, and those of `before` outside it (one that spans the meeting
/// point is in both: kept once).
pub(super) fn merged_busy(
    before: &Covered<Arc<[BusyTime]>>,
    since: &Covered<Arc<[BusyTime]>>,
) -> Arc<[BusyTime]> {
    let mut times: Vec<BusyTime> = since.data.to_vec();
    times.extend(
        before
            .data
            .iter()
            .filter(|time| time.start_time < since.from || time.end_time > since.until)
            .filter(|time| {
                !since.data.iter().any(|other| {
                    other.start_time == time.start_time && other.end_time == time.end_time
                })
            })
            .cloned(),
    );
    times.sort_by_key(|time| time.start_time);
    times.into()
}
