//! Loads in flight, joined: the first question about a key loads it, the questions that come
//! while it does wait for that load and share its answer, success or failure. A key is held
//! only while its load runs (also when the first asker goes away: a waiter takes the load
//! over), so nothing here outlives the load it is for.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::OnceCell;

type Slot<V, E> = Arc<OnceCell<Result<V, E>>>;

/// The loads in flight, by key.
pub(super) struct InFlight<K, V, E> {
    slots: Mutex<HashMap<K, Slot<V, E>>>,
}

impl<K: Eq + Hash + Clone, V: Clone, E: Clone> InFlight<K, V, E> {
    pub(super) fn new() -> Self {
        Self {
            slots: Mutex::new(HashMap::new()),
        }
    }

    /// The answer of the load of `key` in flight, or of `load` when none is.
    pub(super) async fn join<Fut>(&self, key: &K, load: impl FnOnce() -> Fut) -> Result<V, E>
    where
        Fut: Future<Output = Result<V, E>>,
    {
        let slot = {
            let mut slots = self.lock();
            Arc::clone(slots.entry(key.clone()).or_default())
        };
        let asker = Asker {
            in_flight: self,
            key,
            slot: Some(slot),
        };
        match &asker.slot {
            Some(slot) => slot.get_or_init(load).await.clone(),
            None => load().await,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<K, Slot<V, E>>> {
        self.slots.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Keys held now.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.lock().len()
    }
}

/// One asker of a key's load. When it is done (or gone), the last asker lets go of the key,
/// unless a later load holds it by then.
struct Asker<'a, K: Eq + Hash, V, E> {
    in_flight: &'a InFlight<K, V, E>,
    key: &'a K,
    slot: Option<Slot<V, E>>,
}

impl<K: Eq + Hash, V, E> Drop for Asker<'_, K, V, E> {
    fn drop(&mut self) {
        let mut slots = self
            .in_flight
            .slots
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        // Let go of this asker's share under the lock, so that of two askers finishing at
        // once exactly one sees itself last.
        let Some(mine) = self.slot.take() else {
            return;
        };
        let held = slots
            .get(self.key)
            .is_some_and(|held| Arc::ptr_eq(held, &mine));
        drop(mine);
        if held
            && slots
                .get(self.key)
                .is_some_and(|held| Arc::strong_count(held) == 1)
        {
            slots.remove(self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn concurrent_askers_share_one_load_and_its_failure_then_the_key_is_let_go() {
        let in_flight: InFlight<&str, u32, String> = InFlight::new();
        let loads = AtomicUsize::new(0);
        let load = || async {
            loads.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(50)).await;
            Err::<u32, _>("refused".to_owned())
        };
        let (a, b, c) = tokio::join!(
            in_flight.join(&"k", load),
            in_flight.join(&"k", load),
            in_flight.join(&"k", load)
        );
        assert_eq!(loads.load(Ordering::SeqCst), 1);
        assert_eq!((a.clone(), b, c), (a.clone(), a.clone(), a));
        assert_eq!(in_flight.len(), 0, "nothing held once the load is over");

        let ok = in_flight.join(&"k", || async { Ok(7) }).await;
        assert_eq!(ok, Ok(7), "a later question loads anew");
        assert_eq!(in_flight.len(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn a_waiter_takes_over_when_the_first_asker_goes_away() {
        let in_flight: InFlight<&str, u32, String> = InFlight::new();
        let first = in_flight.join(&"k", || async {
            tokio::time::sleep(Duration::from_secs(60)).await;
            Ok(1)
        });
        // The first asker gives up after a second; the second then loads itself.
        let abandoned = tokio::time::timeout(Duration::from_secs(1), first);
        let second = async {
            tokio::time::sleep(Duration::from_millis(10)).await;
            in_flight.join(&"k", || async { Ok(2) }).await
        };
        let (abandoned, second) = tokio::join!(abandoned, second);
        assert!(abandoned.is_err());
        assert_eq!(second, Ok(2));
        assert_eq!(in_flight.len(), 0);

        // An asker that goes away alone leaves nothing behind.
        let gone = tokio::time::timeout(
            Duration::from_millis(5),
            in_flight.join(&"k", std::future::pending),
        )
        .await;
        assert!(gone.is_err());
        assert_eq!(in_flight.len(), 0);
    }
}
