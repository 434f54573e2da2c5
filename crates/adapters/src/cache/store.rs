//! Where windows are kept: every window of one subject (an account's event type, or an
//! account's busy times) in one map entry, so that the cost of an entry is paid once per
//! subject rather than once per week; plain maps in shards rather than a general-purpose cache,
//! whose bookkeeping per entry (hundreds of bytes) outweighed the windows themselves. Each
//! window keeps the time it was stored and lives for the TTL from then. Concurrent loads of
//! one window are joined while they run ([`InFlight`]).

use std::collections::HashMap;
use std::future::Future;
use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use domain::{CalendlyUserUri, EventTypeUri, ProviderError, TimeRange};
use tokio::time::Instant;

use super::in_flight::InFlight;
use super::windows::{Touched, to_fetch};

/// Answers kept for one window, valid for questions starting at `from` or later.
#[derive(Debug)]
pub(super) struct Covered<T> {
    pub from: DateTime<Utc>,
    pub data: T,
}

/// What a load gave: the window's data, valid for questions starting at `from` or later, and
/// how long ago it was first stored (zero when fresh from the provider, more when it came from
/// the shared tier).
#[derive(Debug)]
pub(super) struct Loaded<T> {
    pub data: T,
    pub from: DateTime<Utc>,
    pub age: Duration,
}

/// Whose windows: an account (at a generation), and an event type (`None` for busy times).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) struct SubjectKey {
    pub account: CalendlyUserUri,
    pub generation: u64,
    pub event_type: Option<EventTypeUri>,
}

impl SubjectKey {
    fn size(&self) -> usize {
        self.account.as_str().len() + self.event_type.as_ref().map_or(0, |e| e.as_str().len())
    }
}

struct Kept<T> {
    window_start: i64,
    stored: Instant,
    covered: Arc<Covered<T>>,
}

/// What a subject costs beyond its windows' data (its entry, key and list), and what each
/// window costs beyond its data, in bytes, roughly: for weighing.
const SUBJECT_BYTES: usize = 160;
const WINDOW_BYTES: usize = 64;

/// Most shards; fewer when few windows may be kept, so that each shard's share is at least 64.
const MAX_SHARDS: u64 = 16;

/// One shard of the subjects, with what its windows weigh.
struct Shard<T> {
    subjects: HashMap<SubjectKey, Vec<Kept<T>>>,
    bytes: usize,
    windows: usize,
}

impl<T> Shard<T> {
    /// The window starting at `window_start` of `subject`, if stored less than `ttl` ago and
    /// covering questions from `from`.
    fn fresh(
        &self,
        subject: &SubjectKey,
        window_start: i64,
        from: DateTime<Utc>,
        ttl: Duration,
    ) -> Option<Arc<Covered<T>>> {
        self.subjects
            .get(subject)?
            .iter()
            .find(|kept| {
                kept.window_start == window_start
                    && kept.stored.elapsed() < ttl
                    && kept.covered.from <= from
            })
            .map(|kept| Arc::clone(&kept.covered))
    }

    /// Drops the windows of `subject` that `drop` picks, and the subject when none is left.
    fn drop_windows(
        &mut self,
        subject: &SubjectKey,
        size_of: fn(&T) -> usize,
        drop: impl Fn(&Kept<T>) -> bool,
    ) {
        let Some(windows) = self.subjects.get_mut(subject) else {
            return;
        };
        let mut freed = 0;
        let before = windows.len();
        windows.retain(|kept| {
            let dropped = drop(kept);
            if dropped {
                freed += size_of(&kept.covered.data) + WINDOW_BYTES;
            }
            !dropped
        });
        self.windows -= before - windows.len();
        self.bytes -= freed;
        if windows.is_empty() {
            self.subjects.remove(subject);
            self.bytes -= subject.size() + SUBJECT_BYTES;
        }
    }

    /// Drops every window past `ttl`.
    fn sweep(&mut self, ttl: Duration, size_of: fn(&T) -> usize) {
        let stale: Vec<SubjectKey> = self
            .subjects
            .iter()
            .filter(|(_, windows)| windows.iter().any(|kept| kept.stored.elapsed() >= ttl))
            .map(|(subject, _)| subject.clone())
            .collect();
        for subject in &stale {
            self.drop_windows(subject, size_of, |kept| kept.stored.elapsed() >= ttl);
        }
    }

    /// Drops the oldest windows until at most `bytes` and `windows` are kept.
    fn shrink_to(&mut self, (bytes, windows): (usize, usize), size_of: fn(&T) -> usize) {
        let mut by_age: Vec<(Instant, SubjectKey, i64)> = self
            .subjects
            .iter()
            .flat_map(|(subject, kept)| {
                kept.iter()
                    .map(|kept| (kept.stored, subject.clone(), kept.window_start))
            })
            .collect();
        by_age.sort_unstable_by_key(|(stored, _, _)| *stored);
        for (_, subject, window_start) in by_age {
            if self.bytes <= bytes && self.windows <= windows {
                break;
            }
            self.drop_windows(&subject, size_of, |kept| kept.window_start == window_start);
        }
    }
}

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
    loads: InFlight<(SubjectKey, i64), Arc<Covered<T>>, ProviderError>,
    /// When windows past the TTL were last dropped from every shard.
    swept: Mutex<Instant>,
    ttl: Duration,
    size_of: fn(&T) -> usize,
    share: fn(&T, &T) -> Option<T>,
}

impl<T: Send + Sync + 'static> WindowStore<T> {
    /// Keeps windows for `ttl`, in at most `max_bytes` (`size_of` telling a window's bytes)
    /// and `max_windows` windows; `share` makes a window that shares what it can with another
    /// of its subject (`None`: nothing to share).
    pub(super) fn new(
        ttl: Duration,
        (max_bytes, max_windows): (u64, u64),
        size_of: fn(&T) -> usize,
        share: fn(&T, &T) -> Option<T>,
    ) -> Self {
        let shards = (max_windows / 64).clamp(1, MAX_SHARDS);
        let share_of = |bound: u64| usize::try_from(bound / shards).unwrap_or(usize::MAX);
        Self {
            shards: (0..shards)
                .map(|_| {
                    Mutex::new(Shard {
                        subjects: HashMap::new(),
                        bytes: 0,
                        windows: 0,
                    })
                })
                .collect(),
            hasher: RandomState::new(),
            share_of_bounds: (share_of(max_bytes), share_of(max_windows).max(1)),
            loads: InFlight::new(),
            swept: Mutex::new(Instant::now()),
            ttl,
            size_of,
            share,
        }
    }

    fn shard(&self, subject: &SubjectKey) -> MutexGuard<'_, Shard<T>> {
        let count = u64::try_from(self.shards.len()).unwrap_or(1);
        let at = usize::try_from(self.hasher.hash_one(subject) % count).unwrap_or(0);
        self.shards[at]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The windows `parts` touch, each kept or loaded by `load` with the window's start
    /// (seconds) and the range to fetch (concurrent loads of one window share one), with the
    /// part of the question each is asked for. `observe` is told of each lookup: `true` for a
    /// kept window.
    pub(super) async fn windows<F, Fut>(
        &self,
        subject: &SubjectKey,
        parts: Vec<Touched>,
        earliest: DateTime<Utc>,
        load: F,
        observe: impl Fn(bool),
    ) -> Result<Vec<(Arc<Covered<T>>, TimeRange)>, ProviderError>
    where
        F: Fn(i64, TimeRange) -> Fut,
        Fut: Future<Output = Result<Loaded<T>, ProviderError>>,
    {
        // One look into the subject's shard for every part.
        let kept: Vec<Option<Arc<Covered<T>>>> = {
            let shard = self.shard(subject);
            parts
                .iter()
                .map(|part| {
                    let window_start = part.window.start().timestamp();
                    shard.fresh(subject, window_start, part.needed.start(), self.ttl)
                })
                .collect()
        };
        let lookups = parts.into_iter().zip(kept).map(|(part, fresh)| {
            let window_start = part.window.start().timestamp();
            let load = &load;
            let observe = &observe;
            async move {
                if let Some(fresh) = fresh {
                    observe(true);
                    return Ok((fresh, part.needed));
                }
                observe(false);
                let fetch = to_fetch(part, earliest);
                let key = (subject.clone(), window_start);
                let loaded = self
                    .loads
                    .join(&key, || async move {
                        let Loaded { data, from, age } = load(window_start, fetch).await?;
                        let loaded = Arc::new(Covered { from, data });
                        // Kept before the load lets go of its key: a question after it finds
                        // the window kept, or joins it.
                        self.keep(subject, window_start, Arc::clone(&loaded), age);
                        Ok(loaded)
                    })
                    .await?;
                Ok((loaded, part.needed))
            }
        });
        futures::future::try_join_all(lookups).await
    }

    /// Keeps `covered` (stored `age` ago) as `subject`'s window at `window_start`, dropping its
    /// windows past the TTL; what it has in common with another window of the subject is
    /// shared (`share`).
    fn keep(
        &self,
        subject: &SubjectKey,
        window_start: i64,
        covered: Arc<Covered<T>>,
        age: Duration,
    ) {
        let (ttl, size_of) = (self.ttl, self.size_of);
        let mut shard = self.shard(subject);
        shard.drop_windows(subject, size_of, |kept| {
            kept.window_start == window_start || kept.stored.elapsed() >= ttl
        });
        let windows = shard.subjects.entry(subject.clone()).or_default();
        let new_subject = windows.is_empty();
        let shared = windows
            .iter()
            .find_map(|kept| (self.share)(&covered.data, &kept.covered.data));
        let covered = match shared {
            Some(data) => Arc::new(Covered {
                from: covered.from,
                data,
            }),
            None => covered,
        };
        let bytes = size_of(&covered.data) + WINDOW_BYTES;
        windows.reserve_exact(1);
        let now = Instant::now();
        windows.push(Kept {
            window_start,
            stored: now.checked_sub(age).unwrap_or(now),
            covered,
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
