//! Where windows are kept: every window of one subject (an account's event type, or an
//! account's busy times) in one cache entry, so that the cache's own cost per entry is paid
//! once per subject rather than once per week. Each window keeps the time it was stored and
//! lives for the TTL from then; the entry lives while any window is fresh. Concurrent loads of
//! one window are joined while they run ([`InFlight`]).

use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use domain::{CalendlyUserUri, EventTypeUri, ProviderError, TimeRange};
use moka::future::Cache;

use super::in_flight::InFlight;
use super::windows::{Touched, to_fetch};

/// Answers kept for one window, valid for questions starting at `from` or later.
#[derive(Debug)]
pub(super) struct Covered<T> {
    pub from: DateTime<Utc>,
    pub data: T,
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

/// The windows of one subject.
pub(super) struct Subject<T> {
    windows: Mutex<Vec<Kept<T>>>,
}

impl<T> Subject<T> {
    fn windows(&self) -> std::sync::MutexGuard<'_, Vec<Kept<T>>> {
        self.windows.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The window starting at `window_start`, if stored less than `ttl` ago and covering
    /// questions from `from`.
    fn fresh(
        &self,
        window_start: i64,
        from: DateTime<Utc>,
        ttl: Duration,
    ) -> Option<Arc<Covered<T>>> {
        self.windows()
            .iter()
            .find(|kept| {
                kept.window_start == window_start
                    && kept.stored.elapsed() < ttl
                    && kept.covered.from <= from
            })
            .map(|kept| Arc::clone(&kept.covered))
    }

    /// Keeps `covered` as the window at `window_start`, dropping windows no longer fresh; what
    /// it has in common with another window of the subject is shared (`share`).
    fn put(
        &self,
        window_start: i64,
        covered: Arc<Covered<T>>,
        ttl: Duration,
        share: fn(&T, &T) -> Option<T>,
    ) {
        let mut windows = self.windows();
        windows.retain(|kept| kept.window_start != window_start && kept.stored.elapsed() < ttl);
        let shared = windows
            .iter()
            .find_map(|kept| share(&covered.data, &kept.covered.data));
        let covered = match shared {
            Some(data) => Arc::new(Covered {
                from: covered.from,
                data,
            }),
            None => covered,
        };
        windows.push(Kept {
            window_start,
            stored: Instant::now(),
            covered,
        });
    }
}

/// Windows of one kind (available or busy times), bounded in bytes and entries.
pub(super) struct WindowStore<T> {
    subjects: Cache<SubjectKey, Arc<Subject<T>>>,
    loads: InFlight<(SubjectKey, i64), Arc<Covered<T>>, ProviderError>,
    ttl: Duration,
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
        let subjects = Cache::builder()
            .time_to_live(ttl)
            .max_capacity(max_bytes)
            .weigher(move |key: &SubjectKey, subject: &Arc<Subject<T>>| {
                let windows = subject.windows();
                let bytes = key.size()
                    + 256
                    + windows
                        .iter()
                        .map(|kept| size_of(&kept.covered.data) + 64)
                        .sum::<usize>();
                super::weight(bytes, windows.len(), (max_bytes, max_windows))
            })
            .build();
        Self {
            subjects,
            loads: InFlight::new(),
            ttl,
            share,
        }
    }

    /// The windows `parts` touch, each kept or loaded by `load` with the range to fetch
    /// (concurrent loads of one window share one), with the part of the question each is
    /// asked for. `observe` is told of each lookup: `true` for a kept window.
    pub(super) async fn windows<F, Fut>(
        &self,
        subject: &SubjectKey,
        parts: Vec<Touched>,
        earliest: DateTime<Utc>,
        load: F,
        observe: impl Fn(bool),
    ) -> Result<Vec<(Arc<Covered<T>>, TimeRange)>, ProviderError>
    where
        F: Fn(TimeRange) -> Fut,
        Fut: Future<Output = Result<T, ProviderError>>,
    {
        let kept = self.subjects.get(subject).await;
        let lookups = parts.into_iter().map(|part| {
            let window_start = part.window.start().timestamp();
            let fresh = kept
                .as_ref()
                .and_then(|kept| kept.fresh(window_start, part.needed.start(), self.ttl));
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
                        let data = load(fetch).await?;
                        let loaded = Arc::new(Covered {
                            from: fetch.start(),
                            data,
                        });
                        // Kept before the load lets go of its key: a question after it finds
                        // the window kept, or joins it.
                        self.keep(subject, window_start, Arc::clone(&loaded)).await;
                        Ok(loaded)
                    })
                    .await?;
                Ok((loaded, part.needed))
            }
        });
        futures::future::try_join_all(lookups).await
    }

    async fn keep(&self, subject: &SubjectKey, window_start: i64, covered: Arc<Covered<T>>) {
        let entry = self
            .subjects
            .get_with_by_ref(subject, async {
                Arc::new(Subject {
                    windows: Mutex::new(Vec::new()),
                })
            })
            .await;
        entry.put(window_start, covered, self.ttl, self.share);
        // Inserted again so that the cache weighs it with the new window.
        self.subjects.insert(subject.clone(), entry).await;
    }

    /// Subjects kept now.
    pub(super) fn subject_count(&self) -> u64 {
        self.subjects.entry_count()
    }

    /// Windows kept now (a subject counts for each of its windows), and their weight.
    #[cfg(test)]
    pub(super) async fn window_count(&self) -> (u64, u64) {
        self.subjects.run_pending_tasks().await;
        let windows = self
            .subjects
            .iter()
            .map(|(_, subject)| u64::try_from(subject.windows().len()).unwrap_or(0))
            .sum();
        (windows, self.subjects.weighted_size())
    }
}
