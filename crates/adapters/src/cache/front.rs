//! A read-mostly front of the kept event types: each account's last kept, found by the
//! account alone and a look at its generation, without the store's bookkeeping on every
//! question (an async lookup, a hash of the whole key, a read recorded for its eviction
//! policy). Most checks ask for an account's event types only to find its first.
//!
//! The front serves nothing the store would not: an entry is served only at the generation
//! it was kept under (a forgotten account is at a new one) and while it lives
//! ([`KeptTypes::alive`]); the store's eviction listener takes out what the store drops. So
//! that the store's policy still sees which accounts are asked about, every
//! [`TOUCH_EVERY`]th hit of an entry is a read of the store as well. The front is bounded
//! (by twice the accounts the store may hold): past that, those no longer alive are swept
//! out, then all.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

use domain::{CalendlyUserUri, EventType};

use super::kept_types::KeptTypes;
use super::ready::ReadyBudget;
use crate::hashing::HashMap;

/// One hit in this many of an entry is also a read of the store.
pub(super) const TOUCH_EVERY: u32 = 32;

struct Fronted {
    generation: u64,
    kept: Arc<KeptTypes>,
    hits: AtomicU32,
}

/// What a look at the front found.
pub(super) struct Found {
    pub types: Arc<[EventType]>,
    /// Whether the store should be read too, for its policy.
    pub touch: bool,
}

pub(super) struct TypesFront {
    kept: RwLock<HashMap<CalendlyUserUri, Fronted>>,
    most: usize,
}

impl TypesFront {
    /// A front of at most `most` accounts.
    pub(super) fn new(most: usize) -> Self {
        Self {
            kept: RwLock::default(),
            most: most.max(1),
        }
    }

    /// `account`'s event types kept at `generation`, while they live.
    pub(super) fn get(
        &self,
        account: &CalendlyUserUri,
        generation: u64,
        ready: &Arc<ReadyBudget>,
    ) -> Option<Found> {
        let kept = self.kept.read().unwrap_or_else(PoisonError::into_inner);
        let fronted = kept.get(account)?;
        if fronted.generation != generation || !fronted.kept.alive() {
            return None;
        }
        let types = fronted.kept.types(ready)?;
        let hits = fronted.hits.fetch_add(1, Ordering::Relaxed);
        Some(Found {
            types,
            touch: hits % TOUCH_EVERY == TOUCH_EVERY - 1,
        })
    }

    /// `kept` is what the store holds of `account` at `generation` (in place of whatever
    /// the front had of the account).
    pub(super) fn put(&self, account: &CalendlyUserUri, generation: u64, kept: &Arc<KeptTypes>) {
        let mut fronted = self.kept.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(was) = fronted.get(account)
            && was.generation == generation
            && Arc::ptr_eq(&was.kept, kept)
        {
            return;
        }
        if fronted.len() >= self.most && !fronted.contains_key(account) {
            fronted.retain(|_, entry| entry.kept.alive());
            if fronted.len() >= self.most {
                fronted.clear();
            }
        }
        fronted.insert(
            account.clone(),
            Fronted {
                generation,
                kept: Arc::clone(kept),
                hits: AtomicU32::new(0),
            },
        );
    }

    /// The store dropped `kept`, `account`'s at `generation`: the front drops it too (not a
    /// newer one that took its place).
    pub(super) fn dropped(&self, account: &CalendlyUserUri, generation: u64, kept: &KeptTypes) {
        let mut fronted = self.kept.write().unwrap_or_else(PoisonError::into_inner);
        if fronted.get(account).is_some_and(|entry| {
            entry.generation == generation && std::ptr::eq(Arc::as_ptr(&entry.kept), kept)
        }) {
            fronted.remove(account);
        }
    }

    pub(super) fn len(&self) -> usize {
        self.kept
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::super::packed::{Dictionary, PackedEventTypes};
    use super::*;

    fn account(id: &str) -> CalendlyUserUri {
        CalendlyUserUri::parse(format!("https://api.calendly.com/users/{id}")).expect("uri")
    }

    fn kept(lives: Duration) -> Arc<KeptTypes> {
        let packed = PackedEventTypes::pack(&[], &Dictionary::default()).expect("packed");
        Arc::new(KeptTypes::new(packed, lives))
    }

    impl TypesFront {
        fn read_kept(&self, account: &CalendlyUserUri) -> Arc<KeptTypes> {
            let kept = self.kept.read().expect("front");
            Arc::clone(&kept.get(account).expect("kept").kept)
        }
    }

    fn budget() -> Arc<ReadyBudget> {
        ReadyBudget::new(1 << 20)
    }

    #[tokio::test(start_paused = true)]
    async fn an_entry_is_served_at_its_generation_while_it_lives() {
        let front = TypesFront::new(10);
        let ready = budget();
        front.put(&account("A"), 1, &kept(Duration::from_secs(60)));
        assert!(front.get(&account("A"), 1, &ready).is_some());
        assert!(
            front.get(&account("A"), 2, &ready).is_none(),
            "forgotten since"
        );
        assert!(front.get(&account("B"), 1, &ready).is_none());
        tokio::time::advance(Duration::from_secs(59)).await;
        assert!(front.get(&account("A"), 1, &ready).is_some());
        tokio::time::advance(Duration::from_secs(1)).await;
        assert!(
            front.get(&account("A"), 1, &ready).is_none(),
            "its life is over"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn every_thirty_second_hit_is_also_a_read_of_the_store() {
        let front = TypesFront::new(10);
        let ready = budget();
        front.put(&account("A"), 0, &kept(Duration::from_secs(60)));
        let touches = (0..2 * TOUCH_EVERY)
            .filter(|_| front.get(&account("A"), 0, &ready).expect("kept").touch)
            .count();
        assert_eq!(touches, 2);
        // Put again as it is (read from the store once more): its count goes on.
        front.put(
            &account("A"),
            0,
            &Arc::clone(&front.read_kept(&account("A"))),
        );
        let next = (1..=TOUCH_EVERY)
            .map(|_| front.get(&account("A"), 0, &ready).expect("kept").touch)
            .collect::<Vec<_>>();
        assert_eq!(next.iter().filter(|touch| **touch).count(), 1);
        assert!(next[TOUCH_EVERY as usize - 1]);
    }

    #[tokio::test(start_paused = true)]
    async fn what_the_store_drops_leaves_the_front_unless_replaced() {
        let front = TypesFront::new(10);
        let ready = budget();
        let (first, second) = (kept(Duration::from_secs(60)), kept(Duration::from_secs(60)));
        front.put(&account("A"), 0, &first);
        front.put(&account("A"), 0, &second);
        front.dropped(&account("A"), 0, &first);
        assert!(
            front.get(&account("A"), 0, &ready).is_some(),
            "the newer stays"
        );
        front.dropped(&account("A"), 1, &second);
        assert!(
            front.get(&account("A"), 0, &ready).is_some(),
            "another generation's"
        );
        front.dropped(&account("A"), 0, &second);
        assert!(front.get(&account("A"), 0, &ready).is_none());
        assert_eq!(front.len(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn past_its_bound_the_dead_are_swept_then_all() {
        let front = TypesFront::new(2);
        let ready = budget();
        front.put(&account("A"), 0, &kept(Duration::from_secs(1)));
        front.put(&account("B"), 0, &kept(Duration::from_secs(60)));
        tokio::time::advance(Duration::from_secs(2)).await;
        front.put(&account("C"), 0, &kept(Duration::from_secs(60)));
        assert_eq!(front.len(), 2, "A, dead, swept out");
        assert!(front.get(&account("B"), 0, &ready).is_some());
        front.put(&account("D"), 0, &kept(Duration::from_secs(60)));
        assert_eq!(front.len(), 1, "none dead: all swept out, D kept");
        assert!(front.get(&account("D"), 0, &ready).is_some());
        // An account already kept is replaced in place.
        front.put(&account("E"), 0, &kept(Duration::from_secs(60)));
        front.put(&account("E"), 1, &kept(Duration::from_secs(60)));
        assert_eq!(front.len(), 2);
    }
}
