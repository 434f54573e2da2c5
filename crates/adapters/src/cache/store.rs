//! Where windows are kept: every window of one subject (an account's event type, or an
//! account's busy times) in one map entry, so that the cost of an entry is paid once per
//! subject rather than once per week; plain maps in shards rather than a general-purpose cache,
//! whose bookkeeping per entry (hundreds of bytes) outweighed the windows themselves. Each
//! window keeps the time it was stored and lives for the TTL from then. Concurrent loads of
//! one window are joined while they run ([`InFlight`]).

use std::future::Future;
use std::hash::BuildHasher;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use domain::{ProviderError, TimeRange};
use tokio::time::Instant;

use super::in_flight::InFlight;
pub(super) use super::shard::{Covered, SubjectKey};
use super::shard::{Kept, SUBJECT_BYTES, Shard, WINDOW_BYTES};
use super::windows::{Touched, fetches};

use crate::hashing::{HashMap, RandomState};

/// What a load gave for one window: its data, valid for questions within `from`..`until`, and
/// how long ago it was first stored (zero when fresh from the provider, more when it came from
/// the shared tier).
#[derive(Debug)]
pub(super) struct Loaded<T> {
    pub data: T,
    pub from: DateTime<Utc>,
    pub until: DateTime<Utc>,
    pub age: Duration,
}

/// The windows one load kept, in order.
type Run<T> = Arc<[Arc<Covered<T>>]>;

/// One window of a load: its start (seconds) and the part of it fetched.
pub(super) type Piece = (i64, TimeRange);

/// What a store would fetch now, whatever it keeps.
pub(super) trait Fetches {
    /// The ranges [`WindowStore::windows`] would fetch now for `parts`.
    fn fetches_for(
        &self,
        subject: &SubjectKey,
        parts: &[Touched],
        earliest_and_span: (DateTime<Utc>, TimeDelta),
    ) -> Vec<TimeRange>;
}

impl<T: Send + Sync + 'static> Fetches for WindowStore<T> {
    fn fetches_for(
        &self,
        subject: &SubjectKey,
        parts: &[Touched],
        earliest_and_span: (DateTime<Utc>, TimeDelta),
    ) -> Vec<TimeRange> {
        self.fetches_needed(subject, parts, earliest_and_span)
    }
}

/// How a store weighs its windows' data, shares it between windows and merges two parts of one
/// window: see [`WindowStore::new`].
pub(super) type Handling<T> = (
    fn(&T) -> usize,
    fn(&T, &T) -> Option<T>,
    fn(&Covered<T>, &Covered<T>) -> T,
);

/// Most shards; fewer when few windows may be kept, so that each shard's share is at least 64.
const MAX_SHARDS: u64 = 16;

/// Windows of one kind (available or busy times), bounded in bytes and windows: in shards of
/// plain maps, each under a lock held for a lookup or an update only. A window lives for the
/// TTL from when it was stored; windows past it are dropped when their subject is next
/// stored, and all of them when anything is stored a TTL or more after the last such sweep. Over its share of either bound, a shard
/// drops its oldest windows (the nearest to expiring) down to nine tenths of it.
pub(super) struct WindowStore<T> {
    shards: Box<[Mutex<Shard<T>>]>,
    hasher: RandomState,
    /// Each shard's share of the bounds: bytes, windows.
    share_of_bounds: (usize, usize),
    /// Loads by subject and range fetched: each a run of windows.
    loads: InFlight<(SubjectKey, i64, i64), Run<T>, ProviderError>,
    /// When windows past the TTL were last dropped from every shard.
    swept: Mutex<Instant>,
    pub(super) ttl: Duration,
    size_of: fn(&T) -> usize,
    share: fn(&T, &T) -> Option<T>,
    merge: fn(&Covered<T>, &Covered<T>) -> T,
}

impl<T: Send + Sync + 'static> WindowStore<T> {
    /// Keeps windows for `ttl`, in at most `max_bytes` (`size_of` telling a window's bytes)
    /// and `max_windows` windows; `share` makes a window that shares what it can with another
    /// of its subject (`None`: nothing to share); `merge` makes one window of two parts of it
    /// that meet (the first kept before, the second loaded since).
    pub(super) fn new(
        ttl: Duration,
        (max_bytes, max_windows): (u64, u64),
        (size_of, share, merge): Handling<T>,
    ) -> Self {
        let shards = (max_windows / 64).clamp(1, MAX_SHARDS);
        let share_of = |bound: u64| usize::try_from(bound / shards).unwrap_or(usize::MAX);
        Self {
            shards: (0..shards)
                .map(|_| {
                    Mutex::new(Shard {
                        subjects: HashMap::default(),
                        bytes: 0,
                        windows: 0,
                    })
                })
                .collect(),
            hasher: RandomState::default(),
            share_of_bounds: (share_of(max_bytes), share_of(max_windows).max(1)),
            loads: InFlight::new(),
            swept: Mutex::new(Instant::now()),
            ttl,
            size_of,
            share,
            merge,
        }
    }

    pub(super) fn shard(&self, subject: &SubjectKey) -> MutexGuard<'_, Shard<T>> {
        let count = u64::try_from(self.shards.len()).unwrap_or(1);
        let at = usize::try_from(self.hasher.hash_one(subject) % count).unwrap_or(0);
        self.shards[at]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The ranges [`Self::windows`] would fetch now for `parts`: what is not kept, in runs.
    fn fetches_needed(
        &self,
        subject: &SubjectKey,
        parts: &[Touched],
        (earliest, span): (DateTime<Utc>, TimeDelta),
    ) -> Vec<TimeRange> {
        let kept: Vec<bool> = {
            let shard = self.shard(subject);
            parts
                .iter()
                .map(|part| {
                    let window_start = part.window.start().timestamp();
                    shard
                        .fresh(subject, window_start, part.needed, self.ttl)
                        .is_some()
                })
                .collect()
        };
        let mut ranges = Vec::new();
        let mut at = 0;
        while at < parts.len() {
            let end = (at..parts.len())
                .find(|&next| kept[next] != kept[at])
                .unwrap_or(parts.len());
            if !kept[at] {
                ranges.extend(
                    fetches(&parts[at..end], earliest, span)
                        .into_iter()
                        .map(|(_, range)| range),
                );
            }
            at = end;
        }
        ranges
    }

    /// The windows `parts` touch (in order, each touching the next), each kept or loaded, with
    /// the part of the question each is asked for. Missing windows next to each other are
    /// loaded together by `load`, in calls of at most `span` (see [`fetches`]), one call at a
    /// time: `load` is given each window's start (seconds) and part fetched, and the range to
    /// fetch, and answers for each window. Concurrent loads of one run share one. `observe` is
    /// told of each lookup: `true` for a kept window.
    pub(super) async fn windows<F, Fut>(
        &self,
        subject: &SubjectKey,
        parts: Vec<Touched>,
        (earliest, span): (DateTime<Utc>, TimeDelta),
        load: F,
        observe: impl Fn(bool),
    ) -> Result<Vec<(Arc<Covered<T>>, TimeRange)>, ProviderError>
    where
        F: Fn(Vec<Piece>) -> Fut,
        Fut: Future<Output = Result<Vec<Loaded<T>>, ProviderError>>,
    {
        // One look into the subject's shard for every part.
        let mut found: Vec<Option<Arc<Covered<T>>>> = {
            let shard = self.shard(subject);
            parts
                .iter()
                .map(|part| {
                    let window_start = part.window.start().timestamp();
                    shard.fresh(subject, window_start, part.needed, self.ttl)
                })
                .collect()
        };
        for kept in &found {
            observe(kept.is_some());
        }
        let mut at = 0;
        while at < parts.len() {
            if found[at].is_some() {
                at += 1;
                continue;
            }
            let run_end = (at..parts.len())
                .find(|&next| found[next].is_some())
                .unwrap_or(parts.len());
            for (indices, fetch) in fetches(&parts[at..run_end], earliest, span) {
                let run = &parts[at + indices.start..at + indices.end];
                let loaded = self.load_run(subject, run, fetch, &load).await?;
                for (offset, covered) in loaded.iter().enumerate() {
                    found[at + indices.start + offset] = Some(Arc::clone(covered));
                }
            }
            at = run_end;
        }
        Ok(found
            .into_iter()
            .zip(parts)
            .filter_map(|(covered, part)| Some((covered?, part.needed)))
            .collect())
    }

    /// The windows of `run`, loaded together by fetching `fetch` (or by a load of the same
    /// already in flight), and kept.
    async fn load_run<F, Fut>(
        &self,
        subject: &SubjectKey,
        run: &[Touched],
        fetch: TimeRange,
        load: &F,
    ) -> Result<Run<T>, ProviderError>
    where
        F: Fn(Vec<Piece>) -> Fut,
        Fut: Future<Output = Result<Vec<Loaded<T>>, ProviderError>>,
    {
        let pieces: Vec<Piece> = run
            .iter()
            .filter_map(|part| {
                let piece = TimeRange::new(
                    part.window.start().max(fetch.start()),
                    part.window.end().min(fetch.end()),
                )?;
                Some((part.window.start().timestamp(), piece))
            })
            .collect();
        let key = (
            subject.clone(),
            fetch.start().timestamp(),
            fetch.end().timestamp(),
        );
        self.loads
            .join(&key, || async move {
                let starts: Vec<i64> = pieces.iter().map(|(start, _)| *start).collect();
                let loaded = load(pieces).await?;
                let kept: Run<T> = starts
                    .into_iter()
                    .zip(loaded)
                    .map(|(window_start, loaded)| {
                        let Loaded {
                            data,
                            from,
                            until,
                            age,
                        } = loaded;
                        // Kept before the load lets go of its key: a question after it finds
                        // the window kept, or joins it.
                        self.keep(subject, window_start, Covered { from, until, data }, age)
                    })
                    .collect();
                Ok(kept)
            })
            .await
    }

    /// Keeps `covered` (stored `age` ago) as `subject`'s window at `window_start`, dropping its
    /// windows past the TTL; a fresh part of the window kept before that meets it is merged
    /// with it (the two living as long as the older); what it has in common with another
    /// window of the subject is shared (`share`). Returns the window as kept.
    fn keep(
        &self,
        subject: &SubjectKey,
        window_start: i64,
        covered: Covered<T>,
        age: Duration,
    ) -> Arc<Covered<T>> {
        let (ttl, size_of) = (self.ttl, self.size_of);
        let now = Instant::now();
        let mut stored = now.checked_sub(age).unwrap_or(now);
        let mut shard = self.shard(subject);
        let mut covered = covered;
        if let Some(before) = shard.subjects.get(subject).and_then(|windows| {
            windows.iter().find(|kept| {
                kept.window_start == window_start
                    && kept.stored.elapsed() < ttl
                    && kept.covered.from <= covered.until
                    && covered.from <= kept.covered.until
            })
        }) {
            covered = Covered {
                from: before.covered.from.min(covered.from),
                until: before.covered.until.max(covered.until),
                data: (self.merge)(&before.covered, &covered),
            };
            stored = stored.min(before.stored);
        }
        shard.drop_windows(subject, size_of, |kept| {
            kept.window_start == window_start || kept.stored.elapsed() >= ttl
        });
        let windows = shard.subjects.entry(subject.clone()).or_default();
        let new_subject = windows.is_empty();
        if let Some(data) = windows
            .iter()
            .find_map(|kept| (self.share)(&covered.data, &kept.covered.data))
        {
            covered.data = data;
        }
        let covered = Arc::new(covered);
        let bytes = size_of(&covered.data) + WINDOW_BYTES;
        windows.reserve_exact(1);
        windows.push(Kept {
            window_start,
            stored,
            number: super::numbering::numbered(),
            covered: Arc::clone(&covered),
        });
        shard.windows += 1;
        shard.bytes += bytes
            + if new_subject {
                subject.size() + SUBJECT_BYTES
            } else {
                0
            };
        let (bytes, windows) = self.share_of_bounds;
        if shard.bytes > bytes || shard.windows > windows {
            shard.shrink_to((bytes / 10 * 9, windows / 10 * 9), size_of);
        }
        drop(shard);
        self.sweep_when_due();
        covered
    }

    /// Drops the windows past the TTL from every shard (one at a time), when the last sweep
    /// was a TTL or more ago.
    fn sweep_when_due(&self) {
        {
            let mut swept = self.swept.lock().unwrap_or_else(PoisonError::into_inner);
            if swept.elapsed() < self.ttl {
                return;
            }
            *swept = Instant::now();
        }
        for shard in &self.shards {
            shard
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .sweep(self.ttl, self.size_of);
        }
    }

    /// Subjects kept now.
    pub(super) fn subject_count(&self) -> u64 {
        self.each_shard(|shard| shard.subjects.len())
    }

    fn each_shard(&self, count: impl Fn(&Shard<T>) -> usize) -> u64 {
        self.shards
            .iter()
            .map(|shard| count(&shard.lock().unwrap_or_else(PoisonError::into_inner)))
            .map(|n| u64::try_from(n).unwrap_or(u64::MAX))
            .sum()
    }

    /// Loads in flight now.
    #[cfg(test)]
    pub(super) fn loads_in_flight(&self) -> usize {
        self.loads.len()
    }

    /// Windows kept now, and their weight.
    #[cfg(test)]
    pub(super) fn window_count(&self) -> (u64, u64) {
        (
            self.each_shard(|shard| shard.windows),
            self.each_shard(|shard| shard.bytes),
        )
    }
}
