//! Calendly's answers remembered in process, by the Calendly account they belong to: a
//! decorator of [`SchedulingProvider`] ([`CachedScheduling`]) over a store that every HTTP
//! worker shares ([`ProviderCache`], on `moka`), which is also the [`AccountCache`] the use
//! cases tell when an account's answers are stale.
//!
//! The key of each answer holds everything the answer depends on: the account. A load in
//! flight for one account can therefore never be joined by a question about another, whatever
//! the gateway user behind either; the token is only the credential the load is made with.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use domain::{
    AccountCache, AvailableTime, BusyTime, CalendlyToken, CalendlyUser, CalendlyUserUri, EventType,
    EventTypeUri, ProviderError, RawJson, SchedulingProvider, TimeRange,
};
use moka::future::Cache;

/// The store: each account's event types for `ttl`, for at most `max_accounts` accounts (the
/// least recently used go first). A `ttl` of zero remembers nothing. Clones share one store.
#[derive(Clone)]
pub struct ProviderCache {
    event_types: Option<Cache<CalendlyUserUri, Arc<[EventType]>>>,
}

impl fmt::Debug for ProviderCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProviderCache")
            .field(
                "event_types",
                &self.event_types.as_ref().map(Cache::entry_count),
            )
            .finish()
    }
}

impl ProviderCache {
    pub fn new(ttl: Duration, max_accounts: u64) -> Self {
        let event_types = (!ttl.is_zero()).then(|| {
            Cache::builder()
                .time_to_live(ttl)
                .max_capacity(max_accounts)
                .build()
        });
        Self { event_types }
    }

    /// `provider`, answering from this store where it can.
    pub fn wrap<P: SchedulingProvider>(&self, provider: P) -> CachedScheduling<P> {
        CachedScheduling {
            inner: provider,
            cache: self.clone(),
        }
    }
}

#[async_trait]
impl AccountCache for ProviderCache {
    async fn forget(&self, account: &CalendlyUserUri) {
        if let Some(event_types) = &self.event_types {
            event_types.invalidate(account).await;
        }
    }
}

/// [`SchedulingProvider`] answering event types from a [`ProviderCache`]: a miss asks `P`,
/// concurrent misses for one account share that one call, and a failure is passed to each of
/// them and not remembered. Everything else goes to `P` as asked.
pub struct CachedScheduling<P> {
    inner: P,
    cache: ProviderCache,
}

impl<P: fmt::Debug> fmt::Debug for CachedScheduling<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachedScheduling")
            .field("inner", &self.inner)
            .field("cache", &self.cache)
            .finish()
    }
}

#[async_trait]
impl<P: SchedulingProvider> SchedulingProvider for CachedScheduling<P> {
    async fn current_user(&self, token: &CalendlyToken) -> Result<CalendlyUser, ProviderError> {
        self.inner.current_user(token).await
    }

    async fn event_types(
        &self,
        token: &CalendlyToken,
        account: &CalendlyUserUri,
    ) -> Result<Arc<[EventType]>, ProviderError> {
        let Some(cache) = &self.cache.event_types else {
            return self.inner.event_types(token, account).await;
        };
        // The provider's (boxed) future is made only on a miss, when the block is first polled.
        let load = async { self.inner.event_types(token, account).await };
        cache
            .try_get_with_by_ref(account, load)
            .await
            .map_err(Arc::unwrap_or_clone)
    }

    async fn available_times(
        &self,
        token: &CalendlyToken,
        event_type: &EventTypeUri,
        range: TimeRange,
    ) -> Result<Vec<AvailableTime>, ProviderError> {
        self.inner.available_times(token, event_type, range).await
    }

    async fn busy_times(
        &self,
        token: &CalendlyToken,
        user: &CalendlyUserUri,
        range: TimeRange,
    ) -> Result<Vec<BusyTime>, ProviderError> {
        self.inner.busy_times(token, user, range).await
    }

    async fn availability_schedules(
        &self,
        token: &CalendlyToken,
        user: &CalendlyUserUri,
    ) -> Result<Vec<RawJson>, ProviderError> {
        self.inner.availability_schedules(token, user).await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use domain::RawJson;

    fn account(id: &str) -> CalendlyUserUri {
        CalendlyUserUri::parse(format!("https://api.calendly.com/users/{id}")).expect("uri")
    }

    fn token() -> CalendlyToken {
        CalendlyToken::parse("token").expect("token")
    }

    /// A provider whose event types are `<account>/event` after `delay`, counting its calls;
    /// with `fail`, every call times out.
    #[derive(Debug, Default)]
    struct Counting {
        calls: AtomicUsize,
        delay: Duration,
        fail: bool,
    }

    #[async_trait]
    impl SchedulingProvider for Counting {
        async fn current_user(&self, _: &CalendlyToken) -> Result<CalendlyUser, ProviderError> {
            Err(ProviderError::Timeout)
        }

        async fn event_types(
            &self,
            _: &CalendlyToken,
            account: &CalendlyUserUri,
        ) -> Result<Arc<[EventType]>, ProviderError> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(self.delay).await;
            if self.fail {
                return Err(ProviderError::Timeout);
            }
            let uri = format!("{account}/event");
            Ok(Arc::from(vec![EventType {
                duration_minutes: Some(30),
                active: true,
                json: RawJson::parse(format!(r#"{{"uri":"{uri}"}}"#)).expect("json"),
                uri: EventTypeUri::parse(uri).expect("uri"),
            }]))
        }

        async fn available_times(
            &self,
            _: &CalendlyToken,
            _: &EventTypeUri,
            _: TimeRange,
        ) -> Result<Vec<AvailableTime>, ProviderError> {
            Ok(Vec::new())
        }

        async fn busy_times(
            &self,
            _: &CalendlyToken,
            _: &CalendlyUserUri,
            _: TimeRange,
        ) -> Result<Vec<BusyTime>, ProviderError> {
            Err(ProviderError::Timeout)
        }

        async fn availability_schedules(
            &self,
            _: &CalendlyToken,
            _: &CalendlyUserUri,
        ) -> Result<Vec<RawJson>, ProviderError> {
            Err(ProviderError::Timeout)
        }
    }

    fn cached(ttl: Duration, provider: Counting) -> (ProviderCache, CachedScheduling<Counting>) {
        let cache = ProviderCache::new(ttl, 100);
        let scheduling = cache.wrap(provider);
        (cache, scheduling)
    }

    async fn first_uri(scheduling: &CachedScheduling<Counting>, id: &str) -> String {
        scheduling
            .event_types(&token(), &account(id))
            .await
            .expect("event types")[0]
            .uri
            .to_string()
    }

    fn calls(scheduling: &CachedScheduling<Counting>) -> usize {
        scheduling.inner.calls.load(Ordering::SeqCst)
    }

    #[tokio::test]
    async fn a_second_question_is_answered_from_memory() {
        let (_, scheduling) = cached(Duration::from_secs(60), Counting::default());
        for _ in 0..3 {
            assert_eq!(
                first_uri(&scheduling, "A").await,
                "https://api.calendly.com/users/A/event"
            );
        }
        assert_eq!(calls(&scheduling), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn concurrent_misses_for_one_account_share_one_call() {
        let provider = Counting {
            delay: Duration::from_millis(100),
            ..Counting::default()
        };
        let (_, scheduling) = cached(Duration::from_secs(60), provider);
        let scheduling = Arc::new(scheduling);
        let questions = (0..32).map(|_| {
            let scheduling = Arc::clone(&scheduling);
            tokio::spawn(async move { first_uri(&scheduling, "A").await })
        });
        for answer in futures::future::join_all(questions).await {
            assert_eq!(
                answer.expect("task"),
                "https://api.calendly.com/users/A/event"
            );
        }
        assert_eq!(calls(&scheduling), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_question_about_another_account_never_joins_a_load_in_flight() {
        let provider = Counting {
            delay: Duration::from_millis(100),
            ..Counting::default()
        };
        let (_, scheduling) = cached(Duration::from_secs(60), provider);
        let (a, b) = tokio::join!(first_uri(&scheduling, "A"), first_uri(&scheduling, "B"));
        assert_eq!(a, "https://api.calendly.com/users/A/event");
        assert_eq!(b, "https://api.calendly.com/users/B/event");
        assert_eq!(calls(&scheduling), 2);
    }

    #[tokio::test]
    async fn forgetting_an_account_asks_again_for_it_only() {
        let (cache, scheduling) = cached(Duration::from_secs(60), Counting::default());
        first_uri(&scheduling, "A").await;
        first_uri(&scheduling, "B").await;
        cache.forget(&account("A")).await;
        first_uri(&scheduling, "A").await;
        first_uri(&scheduling, "B").await;
        assert_eq!(calls(&scheduling), 3);
    }

    #[tokio::test]
    async fn entries_expire_after_the_ttl() {
        let (_, scheduling) = cached(Duration::from_millis(100), Counting::default());
        first_uri(&scheduling, "A").await;
        // moka reads its own clock, not tokio's: this one test waits in real time.
        tokio::time::sleep(Duration::from_millis(250)).await;
        first_uri(&scheduling, "A").await;
        assert_eq!(calls(&scheduling), 2);
    }

    #[tokio::test]
    async fn failures_are_passed_on_and_not_remembered() {
        let provider = Counting {
            fail: true,
            ..Counting::default()
        };
        let (_, scheduling) = cached(Duration::from_secs(60), provider);
        for _ in 0..2 {
            let error = scheduling
                .event_types(&token(), &account("A"))
                .await
                .expect_err("failed");
            assert!(matches!(error, ProviderError::Timeout));
        }
        assert_eq!(calls(&scheduling), 2);
    }

    #[tokio::test]
    async fn a_zero_ttl_remembers_nothing() {
        let (_, scheduling) = cached(Duration::ZERO, Counting::default());
        first_uri(&scheduling, "A").await;
        first_uri(&scheduling, "A").await;
        assert_eq!(calls(&scheduling), 2);
    }
}
