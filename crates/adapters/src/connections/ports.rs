//! The ports that read through, and tell through, the [`ConnectionCache`].

use std::sync::Arc;
use std::sync::atomic::Ordering;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::{
    AccountCache, CalendlyConnection, CalendlyCredential, CalendlyUserUri, HookId, HookedAccount,
    RefreshLease, RepositoryError, TokenRepository, UserId, Webhooks,
};

use super::listened::ConnectionCache;

/// The ports made on a [`ConnectionCache`].
impl ConnectionCache {
    /// `local` (this process's answers remembered by account), also forgetting what other
    /// instances forget, and telling them what it forgets; once per process.
    pub fn share_forgetting(self: &Arc<Self>, local: Arc<dyn AccountCache>) -> SharedForgetting {
        let _ = self.accounts.set(Arc::clone(&local));
        SharedForgetting {
            local,
            cache: Arc::clone(self),
        }
    }

    /// `inner`, reading through this cache.
    pub fn wrap(self: &Arc<Self>, inner: Arc<dyn TokenRepository>) -> ListenedTokens {
        ListenedTokens {
            inner,
            cache: Arc::clone(self),
        }
    }
}

/// A [`TokenRepository`] that answers `load` from the [`ConnectionCache`] while it listens, and
/// forgets what it changes itself at once (the notice comes too).
#[derive(Clone)]
pub struct ListenedTokens {
    pub(super) inner: Arc<dyn TokenRepository>,
    pub(super) cache: Arc<ConnectionCache>,
}

impl std::fmt::Debug for ListenedTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ListenedTokens")
            .field("cache", &self.cache)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl TokenRepository for ListenedTokens {
    async fn save(&self, connection: &CalendlyConnection) -> Result<(), RepositoryError> {
        let saved = self.inner.save(connection).await;
        self.cache.forget(connection.user_id.as_str());
        saved
    }

    async fn load(
        &self,
        user_id: &UserId,
    ) -> Result<Option<Arc<CalendlyConnection>>, RepositoryError> {
        let epoch = self.cache.epoch.load(Ordering::Acquire);
        let listening = self.cache.is_listening();
        if listening && let Some(kept) = self.cache.lock().get(user_id) {
            self.cache.observe(true);
            return Ok(Some(Arc::clone(kept)));
        }
        self.cache.observe(false);
        let loaded = self.inner.load(user_id).await?;
        if let Some(connection) = &loaded
            && listening
        {
            self.cache
                .keep_unless_forgotten_since(epoch, user_id, connection);
        }
        Ok(loaded)
    }

    async fn delete(&self, user_id: &UserId) -> Result<bool, RepositoryError> {
        let deleted = self.inner.delete(user_id).await;
        self.cache.forget(user_id.as_str());
        deleted
    }

    async fn ping(&self) -> Result<(), RepositoryError> {
        self.inner.ping().await
    }

    async fn find_hook(&self, hook_id: &HookId) -> Result<Option<HookedAccount>, RepositoryError> {
        self.inner.find_hook(hook_id).await
    }

    async fn set_webhooks<'a>(
        &self,
        user_id: &UserId,
        expected: Option<&'a HookId>,
        webhooks: &Webhooks,
    ) -> Result<bool, RepositoryError> {
        let set = self.inner.set_webhooks(user_id, expected, webhooks).await;
        self.cache.forget(user_id.as_str());
        set
    }

    async fn lock_for_refresh(
        &self,
        user_id: &UserId,
    ) -> Result<Option<Box<dyn RefreshLease>>, RepositoryError> {
        Ok(self
            .inner
            .lock_for_refresh(user_id)
            .await?
            .map(|lease| -> Box<dyn RefreshLease> {
                Box::new(ForgettingLease {
                    lease,
                    cache: Arc::clone(&self.cache),
                })
            }))
    }
}

/// A lease whose commit forgets the connection it renewed, in this process at once.
struct ForgettingLease {
    lease: Box<dyn RefreshLease>,
    cache: Arc<ConnectionCache>,
}

#[async_trait]
impl RefreshLease for ForgettingLease {
    fn connection(&self) -> &CalendlyConnection {
        self.lease.connection()
    }

    async fn commit(
        self: Box<Self>,
        credential: CalendlyCredential,
    ) -> Result<CalendlyConnection, RepositoryError> {
        let user_id = self.lease.connection().user_id.clone();
        let committed = self.lease.commit(credential).await;
        self.cache.forget(user_id.as_str());
        committed
    }
}

/// An [`AccountCache`] that forgets in this process and tells the other instances to forget
/// too (through the database's notices, while the listener listens).
pub struct SharedForgetting {
    pub(super) local: Arc<dyn AccountCache>,
    pub(super) cache: Arc<ConnectionCache>,
}

impl std::fmt::Debug for SharedForgetting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedForgetting")
            .field("cache", &self.cache)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl AccountCache for SharedForgetting {
    async fn forget(&self, account: &CalendlyUserUri) {
        self.local.forget(account).await;
        self.cache.tell("all", account);
    }

    async fn forget_times(&self, account: &CalendlyUserUri) {
        self.local.forget_times(account).await;
        self.cache.tell("times", account);
    }

    async fn forget_since(&self, account: &CalendlyUserUri, all: bool, at: DateTime<Utc>) {
        self.local.forget_since(account, all, at).await;
    }

    async fn hearing(&self, hearing: bool) {
        self.local.hearing(hearing).await;
    }
}
