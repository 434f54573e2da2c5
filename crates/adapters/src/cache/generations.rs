//! Which generation each account's answers are at. An account never forgotten (or not for a
//! long while) is at generation 0 and costs nothing here; forgetting one gives it new
//! generations, kept while anything stored under an older one could still be served: the
//! longest TTL plus the longest a load may take (a load begun before the forgetting lands
//! under the old generation, where no question looks). Only the forgotten account moves: its
//! neighbours' answers stay where they are.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use domain::CalendlyUserUri;
use tokio::time::Instant;

use crate::hashing::HashMap;

/// An account's generations: of its available and busy times, and of its event types.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Generation {
    pub times: u64,
    pub event_types: u64,
}

struct Forgotten {
    generation: Generation,
    at: Instant,
    /// When the account's times, and its event types, were last forgotten, by the clock of
    /// the instance that forgot them: nothing stored before then is served.
    since: (DateTime<Utc>, Option<DateTime<Utc>>),
}

/// The generations of the accounts forgotten within the horizon.
pub(super) struct Generations {
    forgotten: Mutex<HashMap<CalendlyUserUri, Forgotten>>,
    /// How many accounts `forgotten` holds, written under its lock: while none, a look needs
    /// neither the lock nor the account's hash (as usual).
    forgotten_count: AtomicUsize,
    /// The generation of every account not forgotten since everything last was.
    base: AtomicU64,
    /// Whether forgettings are heard; while not, every look is at a generation of its own.
    hearing: AtomicBool,
    next: AtomicU64,
    horizon: Duration,
    swept: Mutex<Instant>,
}

impl Generations {
    /// Generations kept for `horizon` after an account is forgotten.
    pub(super) fn new(horizon: Duration) -> Self {
        Self {
            forgotten: Mutex::default(),
            forgotten_count: AtomicUsize::new(0),
            base: AtomicU64::new(0),
            hearing: AtomicBool::new(true),
            next: AtomicU64::new(1),
            horizon,
            swept: Mutex::new(Instant::now()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<CalendlyUserUri, Forgotten>> {
        self.forgotten
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// `account`'s generations now; while forgettings are not heard, new ones at each look
    /// (nothing kept is found, and nothing kept then is ever found).
    pub(super) fn of(&self, account: &CalendlyUserUri) -> Generation {
        if !self.hearing.load(Ordering::Acquire) {
            let own = self.next.fetch_add(1, Ordering::Relaxed);
            return Generation {
                times: own,
                event_types: own,
            };
        }
        let kept = if self.forgotten_count.load(Ordering::SeqCst) == 0 {
            None
        } else {
            self.lock()
                .get(account)
                .map(|forgotten| forgotten.generation)
        };
        kept.unwrap_or_else(|| {
            let base = self.base.load(Ordering::Acquire);
            Generation {
                times: base,
                event_types: base,
            }
        })
    }

    /// Whether forgettings are heard.
    pub(super) fn is_hearing(&self) -> bool {
        self.hearing.load(Ordering::Acquire)
    }

    /// Moves every account to a new generation, and says whether forgettings are heard from
    /// now on.
    pub(super) fn hearing(&self, hearing: bool) {
        let mut forgotten = self.lock();
        forgotten.clear();
        self.forgotten_count.store(0, Ordering::SeqCst);
        self.base
            .store(self.next.fetch_add(1, Ordering::Relaxed), Ordering::Release);
        self.hearing.store(hearing, Ordering::Release);
    }

    /// Moves `account`'s times (and with `event_types_too` its event types) to a new
    /// generation; it was forgotten at `since` (no answer stored before is served).
    pub(super) fn advance(
        &self,
        account: &CalendlyUserUri,
        event_types_too: bool,
        since: DateTime<Utc>,
    ) {
        let fresh = || self.next.fetch_add(1, Ordering::Relaxed);
        let mut forgotten = self.lock();
        self.sweep_when_due(&mut forgotten);
        let entry = forgotten.entry(account.clone()).or_insert(Forgotten {
            generation: Generation::default(),
            at: Instant::now(),
            since: (since, None),
        });
        entry.generation.times = fresh();
        if event_types_too {
            entry.generation.event_types = fresh();
        }
        entry.at = Instant::now();
        entry.since.0 = entry.since.0.max(since);
        if event_types_too {
            entry.since.1 = Some(entry.since.1.map_or(since, |was| was.max(since)));
        }
        self.forgotten_count
            .store(forgotten.len(), Ordering::SeqCst);
    }

    /// When `account`'s times (with `event_types`, its event types) were last forgotten,
    /// within the horizon.
    pub(super) fn forgotten_since(
        &self,
        account: &CalendlyUserUri,
        event_types: bool,
    ) -> Option<DateTime<Utc>> {
        let forgotten = self.lock();
        let since = forgotten.get(account)?.since;
        if event_types { since.1 } else { Some(since.0) }
    }

    /// Drops the accounts forgotten longer ago than the horizon, at most once a horizon.
    fn sweep_when_due(&self, forgotten: &mut HashMap<CalendlyUserUri, Forgotten>) {
        let mut swept = self.swept.lock().unwrap_or_else(PoisonError::into_inner);
        if swept.elapsed() >= self.horizon {
            forgotten.retain(|_, account| account.at.elapsed() < self.horizon);
            self.forgotten_count
                .store(forgotten.len(), Ordering::SeqCst);
            *swept = Instant::now();
        }
    }

    /// Accounts whose generations are kept now.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.lock().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(id: &str) -> CalendlyUserUri {
        CalendlyUserUri::parse(format!("https://api.calendly.com/users/{id}")).expect("uri")
    }

    #[tokio::test(start_paused = true)]
    async fn only_the_forgotten_account_moves_and_is_kept_for_the_horizon() {
        let generations = Generations::new(Duration::from_secs(100));
        let (a, b) = (account("A"), account("B"));
        assert_eq!(generations.of(&a), Generation::default());
        generations.advance(&a, false, Utc::now());
        let moved = generations.of(&a);
        assert!(moved.times > 0 && moved.event_types == 0, "{moved:?}");
        assert_eq!(generations.of(&b), Generation::default(), "B stays");
        generations.advance(&a, true, Utc::now());
        let again = generations.of(&a);
        assert!(
            again.times > moved.times && again.event_types > 0,
            "{again:?}"
        );

        tokio::time::advance(Duration::from_secs(101)).await;
        assert_eq!(generations.of(&a), again, "kept until the next sweep");
        generations.advance(&b, false, Utc::now());
        assert_eq!(
            generations.len(),
            1,
            "A's generations dropped past the horizon"
        );
        assert_eq!(generations.of(&a), Generation::default());
    }

    #[test]
    fn everything_moves_when_hearing_changes_and_nothing_is_found_while_deaf() {
        let generations = Generations::new(Duration::from_secs(100));
        let (a, b) = (account("A"), account("B"));
        generations.advance(&a, true, Utc::now());
        let (before_a, before_b) = (generations.of(&a), generations.of(&b));
        generations.hearing(false);
        let deaf = generations.of(&b);
        assert_ne!(deaf, before_b);
        assert_ne!(
            generations.of(&b),
            deaf,
            "a generation of its own at each look"
        );
        generations.hearing(true);
        let (after_a, after_b) = (generations.of(&a), generations.of(&b));
        assert_ne!(after_a, before_a);
        assert_ne!(after_b, before_b);
        assert_eq!(generations.of(&b), after_b, "steady again");
        assert_eq!(after_a, after_b, "every account at the new base");
    }
}
