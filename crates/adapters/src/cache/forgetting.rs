//! Forgetting in the shared tier first, and again until it is done: a forgetting that could not
//! reach Redis (paused, restarting, too slow) is retried every quarter of a second for as long
//! as what it was for could still be served, so that no instance reads back from Redis an
//! answer its forgetting missed.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::{AccountCache, CalendlyUserUri};
use tokio::time::Instant;

use super::provider::ProviderCache;

/// How often a forgetting that did not reach the tier is tried again.
const RETRY_EVERY: Duration = Duration::from_millis(250);

impl ProviderCache {
    /// `inner` (what forgets in this process, and tells the other instances), forgetting in
    /// the shared tier first: when the others hear of it, they find nothing stale there.
    pub fn forgetting_shared(&self, inner: Arc<dyn AccountCache>) -> Arc<dyn AccountCache> {
        if self.stores.shared.is_none() {
            return inner;
        }
        Arc::new(TierForgetting {
            cache: self.clone(),
            inner,
            retries: Arc::default(),
        })
    }
}

/// Forgettings still to make in the tier: by account, whether all its answers (or its times
/// only), and until when they matter.
#[derive(Default)]
struct Retries {
    pending: Mutex<HashMap<CalendlyUserUri, (bool, Instant)>>,
    running: AtomicBool,
}

impl Retries {
    fn pending(&self) -> std::sync::MutexGuard<'_, HashMap<CalendlyUserUri, (bool, Instant)>> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

struct TierForgetting {
    cache: ProviderCache,
    inner: Arc<dyn AccountCache>,
    retries: Arc<Retries>,
}

impl fmt::Debug for TierForgetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TierForgetting").finish_non_exhaustive()
    }
}

impl TierForgetting {
    async fn forget_in_tier(&self, account: &CalendlyUserUri, all: bool) {
        let Some(shared) = &self.cache.stores.shared else {
            return;
        };
        if shared.forget(account, all).await {
            return;
        }
        let until = Instant::now() + shared.horizon();
        self.retries
            .pending()
            .entry(account.clone())
            .and_modify(|(was_all, was_until)| {
                *was_all |= all;
                *was_until = until;
            })
            .or_insert((all, until));
        if !self.retries.running.swap(true, Ordering::AcqRel) {
            drop(tokio::spawn(retried(
                self.cache.clone(),
                Arc::clone(&self.retries),
            )));
        }
    }
}

/// Tries the pending forgettings again until none is left (or matters any more).
async fn retried(cache: ProviderCache, retries: Arc<Retries>) {
    let Some(shared) = &cache.stores.shared else {
        return;
    };
    loop {
        tokio::time::sleep(RETRY_EVERY).await;
        let now = Instant::now();
        let due: Vec<(CalendlyUserUri, bool)> = {
            let mut pending = retries.pending();
            pending.retain(|_, (_, until)| *until > now);
            pending
                .iter()
                .map(|(account, (all, _))| (account.clone(), *all))
                .collect()
        };
        for (account, all) in due {
            if shared.forget(&account, all).await {
                let mut pending = retries.pending();
                // Unless asked again (for more) meanwhile.
                if pending
                    .get(&account)
                    .is_some_and(|(asked, _)| *asked == all)
                {
                    pending.remove(&account);
                }
            } else {
                break;
            }
        }
        let pending = retries.pending();
        if pending.is_empty() {
            retries.running.store(false, Ordering::Release);
            return;
        }
    }
}

#[async_trait]
impl AccountCache for TierForgetting {
    async fn forget(&self, account: &CalendlyUserUri) {
        self.forget_in_tier(account, true).await;
        self.inner.forget(account).await;
    }

    async fn forget_times(&self, account: &CalendlyUserUri) {
        self.forget_in_tier(account, false).await;
        self.inner.forget_times(account).await;
    }

    async fn forget_since(&self, account: &CalendlyUserUri, all: bool, at: DateTime<Utc>) {
        self.inner.forget_since(account, all, at).await;
    }

    async fn hearing(&self, hearing: bool) {
        self.inner.hearing(hearing).await;
    }
}
