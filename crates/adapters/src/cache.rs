//! Event types remembered in process, per user, for a while ([`EventTypesCache`] on `moka`).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use domain::{CalendlyUserUri, EventType, EventTypesCache, EventTypesLoad, ProviderError, UserId};
use moka::future::Cache;

#[derive(Clone)]
struct Remembered {
    calendly_user: CalendlyUserUri,
    event_types: Arc<[EventType]>,
}

/// Remembers each user's event types for `ttl`, for at most `max_users` users (the least
/// recently used go first). A `ttl` of zero remembers nothing.
#[derive(Clone)]
pub struct MokaEventTypesCache {
    cache: Option<Cache<UserId, Remembered>>,
}

impl fmt::Debug for MokaEventTypesCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MokaEventTypesCache")
            .field("entries", &self.cache.as_ref().map(Cache::entry_count))
            .finish()
    }
}

impl MokaEventTypesCache {
    pub fn new(ttl: Duration, max_users: u64) -> Self {
        let cache = (!ttl.is_zero()).then(|| {
            Cache::builder()
                .time_to_live(ttl)
                .max_capacity(max_users)
                .build()
        });
        Self { cache }
    }
}

#[async_trait]
impl EventTypesCache for MokaEventTypesCache {
    async fn get_or_load(
        &self,
        user: &UserId,
        calendly_user: &CalendlyUserUri,
        load: EventTypesLoad,
    ) -> Result<Arc<[EventType]>, ProviderError> {
        let Some(cache) = &self.cache else {
            return load.await.map(Arc::from);
        };
        match cache.get(user).await {
            Some(remembered) if remembered.calendly_user == *calendly_user => {
                return Ok(remembered.event_types);
            }
            // Remembered for the account the user had before: of no use.
            Some(_) => cache.invalidate(user).await,
            None => {}
        }
        let calendly_user = calendly_user.clone();
        cache
            .try_get_with(user.clone(), async move {
                load.await.map(|event_types| Remembered {
                    calendly_user,
                    event_types: Arc::from(event_types),
                })
            })
            .await
            .map(|remembered| remembered.event_types)
            .map_err(Arc::unwrap_or_clone)
    }

    async fn forget(&self, user: &UserId) {
        if let Some(cache) = &self.cache {
            cache.invalidate(user).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use domain::{EventTypeUri, RawJson};

    fn user(id: &str) -> UserId {
        UserId::parse(id).expect("user id")
    }

    fn calendly_user(id: &str) -> CalendlyUserUri {
        CalendlyUserUri::parse(format!("https://api.calendly.com/users/{id}")).expect("uri")
    }

    fn event_type(uri: &str) -> EventType {
        EventType {
            uri: EventTypeUri::parse(uri).expect("uri"),
            json: RawJson::parse(format!(r#"{{"uri":"{uri}"}}"#)).expect("json"),
        }
    }

    /// A load that counts its runs, takes `delay`, and answers `uri`'s event type.
    fn counted_load(
        calls: &Arc<AtomicUsize>,
        delay: Duration,
        uri: &'static str,
    ) -> EventTypesLoad {
        let calls = Arc::clone(calls);
        Box::pin(async move {
            calls.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(delay).await;
            Ok(vec![event_type(uri)])
        })
    }

    /// User 1, connected to Calendly user `account`, looked up with a counted load of `uri`.
    async fn lookup(
        cache: &MokaEventTypesCache,
        calls: &Arc<AtomicUsize>,
        account: &str,
        uri: &'static str,
    ) -> Result<Arc<[EventType]>, ProviderError> {
        let load = counted_load(calls, Duration::ZERO, uri);
        cache
            .get_or_load(&user("1"), &calendly_user(account), load)
            .await
    }

    #[tokio::test]
    async fn a_second_lookup_is_answered_from_memory() {
        let cache = MokaEventTypesCache::new(Duration::from_secs(60), 100);
        let calls = Arc::new(AtomicUsize::new(0));
        for _ in 0..3 {
            let event_types = lookup(&cache, &calls, "A", "https://e/1")
                .await
                .expect("loaded");
            assert_eq!(event_types[0].uri.as_str(), "https://e/1");
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_misses_share_one_load() {
        let cache = MokaEventTypesCache::new(Duration::from_secs(60), 100);
        let calls = Arc::new(AtomicUsize::new(0));
        let lookups = (0..32).map(|_| {
            let cache = cache.clone();
            let load = counted_load(&calls, Duration::from_millis(100), "https://e/1");
            tokio::spawn(async move {
                cache
                    .get_or_load(&user("1"), &calendly_user("A"), load)
                    .await
            })
        });
        for lookup in futures::future::join_all(lookups).await {
            assert_eq!(lookup.expect("task").expect("loaded").len(), 1);
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn users_are_remembered_apart() {
        let cache = MokaEventTypesCache::new(Duration::from_secs(60), 100);
        let calls = Arc::new(AtomicUsize::new(0));
        let one = lookup(&cache, &calls, "A", "https://e/1")
            .await
            .expect("loaded");
        let load = counted_load(&calls, Duration::ZERO, "https://e/2");
        let two = cache
            .get_or_load(&user("2"), &calendly_user("B"), load)
            .await
            .expect("loaded");
        assert_eq!(
            (one[0].uri.as_str(), two[0].uri.as_str()),
            ("https://e/1", "https://e/2")
        );
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn forgetting_or_another_account_loads_again() {
        let cache = MokaEventTypesCache::new(Duration::from_secs(60), 100);
        let calls = Arc::new(AtomicUsize::new(0));
        lookup(&cache, &calls, "A", "https://e/a")
            .await
            .expect("loaded");
        cache.forget(&user("1")).await;
        lookup(&cache, &calls, "A", "https://e/a")
            .await
            .expect("loaded");
        assert_eq!(calls.load(Ordering::SeqCst), 2);

        let other = lookup(&cache, &calls, "B", "https://e/b")
            .await
            .expect("loaded");
        assert_eq!(
            other[0].uri.as_str(),
            "https://e/b",
            "never the other account's"
        );
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn entries_expire_after_the_ttl() {
        let cache = MokaEventTypesCache::new(Duration::from_millis(100), 100);
        let calls = Arc::new(AtomicUsize::new(0));
        lookup(&cache, &calls, "A", "https://e/1")
            .await
            .expect("loaded");
        tokio::time::sleep(Duration::from_millis(250)).await;
        lookup(&cache, &calls, "A", "https://e/1")
            .await
            .expect("loaded");
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn failures_are_not_remembered() {
        let cache = MokaEventTypesCache::new(Duration::from_secs(60), 100);
        let failing: EventTypesLoad = Box::pin(async { Err(ProviderError::Timeout) });
        let error = cache
            .get_or_load(&user("1"), &calendly_user("A"), failing)
            .await
            .expect_err("failed");
        assert!(matches!(error, ProviderError::Timeout));
        let calls = Arc::new(AtomicUsize::new(0));
        lookup(&cache, &calls, "A", "https://e/1")
            .await
            .expect("loaded");
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_zero_ttl_remembers_nothing() {
        let cache = MokaEventTypesCache::new(Duration::ZERO, 100);
        let calls = Arc::new(AtomicUsize::new(0));
        for _ in 0..2 {
            lookup(&cache, &calls, "A", "https://e/1")
                .await
                .expect("loaded");
        }
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }
}
