//! One shard of a [`super::store::WindowStore`]: its subjects' windows in a plain map, with
//! what they weigh, and how they are looked up, dropped, swept and shrunk.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use domain::{CalendlyUserUri, EventTypeUri, TimeRange};
use tokio::time::Instant;

use crate::hashing::HashMap;

/// Answers kept for one window, valid for questions within `from`..`until`.
#[derive(Debug)]
pub(super) struct Covered<T> {
    pub from: DateTime<Utc>,
    pub until: DateTime<Utc>,
    pub data: T,
}

impl<T> Covered<T> {
    pub(super) fn holds(&self, needed: TimeRange) -> bool {
        self.from <= needed.start() && self.until >= needed.end()
    }
}

/// Whose windows: an account (at a generation), and an event type (`None` for busy times).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) struct SubjectKey {
    pub account: CalendlyUserUri,
    pub generation: u64,
    pub event_type: Option<EventTypeUri>,
}

impl SubjectKey {
    pub(super) fn size(&self) -> usize {
        self.account.as_str().len() + self.event_type.as_ref().map_or(0, |e| e.as_str().len())
    }
}

/// A window kept: its start (seconds), when it was stored.
pub(super) struct Kept<T> {
    pub(super) window_start: i64,
    pub(super) stored: Instant,
    /// Its number among everything kept (see [`super::numbering::numbered`]).
    pub(super) number: u64,
    pub(super) covered: Arc<Covered<T>>,
}

/// What a subject costs beyond its windows' data (its entry, key and list), and what each
/// window costs beyond its data, in bytes, roughly: for weighing.
pub(super) const SUBJECT_BYTES: usize = 160;
pub(super) const WINDOW_BYTES: usize = 64;

/// One shard of the subjects, with what its windows weigh.
pub(super) struct Shard<T> {
    pub(super) subjects: HashMap<SubjectKey, Vec<Kept<T>>>,
    pub(super) bytes: usize,
    pub(super) windows: usize,
}

impl<T> Shard<T> {
    /// The window starting at `window_start` of `subject`, if stored less than `ttl` ago and
    /// covering `needed`.
    pub(super) fn fresh(
        &self,
        subject: &SubjectKey,
        window_start: i64,
        needed: TimeRange,
        ttl: Duration,
    ) -> Option<Arc<Covered<T>>> {
        self.subjects
            .get(subject)?
            .iter()
            .find(|kept| {
                kept.window_start == window_start
                    && kept.stored.elapsed() < ttl
                    && kept.covered.holds(needed)
            })
            .map(|kept| Arc::clone(&kept.covered))
    }

    /// When the first of `subject`'s windows `parts` (each start and part needed) expires:
    /// `None` unless each is kept, covers its part, and was numbered `before` at most.
    pub(super) fn kept_until(
        &self,
        subject: &SubjectKey,
        parts: impl Iterator<Item = (i64, TimeRange)>,
        ttl: Duration,
        before: u64,
    ) -> Option<Instant> {
        let windows = self.subjects.get(subject)?;
        let mut until: Option<Instant> = None;
        for (window_start, needed) in parts {
            let kept = windows.iter().find(|kept| {
                kept.window_start == window_start
                    && kept.stored.elapsed() < ttl
                    && kept.covered.holds(needed)
            })?;
            if kept.number > before {
                return None;
            }
            let expires = kept.stored + ttl;
            until = Some(until.map_or(expires, |until| until.min(expires)));
        }
        until
    }

    /// Drops the windows of `subject` that `drop` picks, and the subject when none is left.
    pub(super) fn drop_windows(
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
    pub(super) fn sweep(&mut self, ttl: Duration, size_of: fn(&T) -> usize) {
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
    pub(super) fn shrink_to(&mut self, (bytes, windows): (usize, usize), size_of: fn(&T) -> usize) {
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
