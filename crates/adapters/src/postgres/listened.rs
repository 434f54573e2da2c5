//! Connections kept in memory, so that a request reads none from the database in steady state,
//! and forgotten everywhere when they change: PostgreSQL notifies every change to a connection
//! (a trigger, on the channel `calendly_connections`, at commit) and each instance listens on a
//! connection of its own ([`ConnectionCache::listen`]).
//!
//! Connections are kept only while the listener is known to be listening: it asks the server a
//! trivial question every [`HEARTBEAT`], and notices sent before the answer arrive before it.
//! When the listener's connection fails or a heartbeat goes unanswered for half a second,
//! everything kept is forgotten and every read goes to the database until it listens again. A
//! change is therefore seen by every instance within 750 ms of its commit at worst, and within
//! milliseconds while the listener's connection is sound.
//!
//! A read that raced with a change is not kept: every forgetting moves an epoch on, and a read
//! is kept only if the epoch did not move while it ran.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use domain::{
    CalendlyConnection, CalendlyCredential, HookId, HookedAccount, RefreshLease, RepositoryError,
    TokenRepository, UserId,
};
use futures::StreamExt;
use secrecy::{ExposeSecret, SecretString};
use tokio_postgres::{AsyncMessage, NoTls};

use crate::cache::{CacheKind, CacheObserver};

/// The channel the trigger notifies on.
pub const CHANNEL: &str = "calendly_connections";
/// How often the listener checks that its connection still answers.
pub const HEARTBEAT: Duration = Duration::from_millis(250);
/// How long it waits for that answer: with the period, what a change may take to be seen
/// when the listener's connection dies without a word (well under a second).
const HEARTBEAT_TIMEOUT: Duration = Duration::from_millis(500);
/// The listener's `application_name`, as `pg_stat_activity` shows it.
pub const LISTENER_NAME: &str = "calendly-gateway-listener";
/// How long it waits before listening again after a failure.
const RETRY: Duration = Duration::from_millis(500);

/// The connections kept in this process, shared by every HTTP worker's repository.
pub struct ConnectionCache {
    entries: Mutex<HashMap<UserId, CalendlyConnection>>,
    epoch: AtomicU64,
    listening: AtomicBool,
    max_users: usize,
    observer: Option<Arc<dyn CacheObserver>>,
}

impl std::fmt::Debug for ConnectionCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectionCache")
            .field("users", &self.lock().len())
            .field("listening", &self.is_listening())
            .finish()
    }
}

impl ConnectionCache {
    /// Keeps at most `max_users` connections (more are read from the database each time).
    pub fn new(max_users: usize, observer: Option<Arc<dyn CacheObserver>>) -> Arc<Self> {
        Arc::new(Self {
            entries: Mutex::default(),
            epoch: AtomicU64::new(0),
            listening: AtomicBool::new(false),
            max_users,
            observer,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<UserId, CalendlyConnection>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether connections are kept now (the listener is listening).
    pub fn is_listening(&self) -> bool {
        self.listening.load(Ordering::Acquire)
    }

    /// `inner`, reading through this cache.
    pub fn wrap(self: &Arc<Self>, inner: Arc<dyn TokenRepository>) -> ListenedTokens {
        ListenedTokens {
            inner,
            cache: Arc::clone(self),
        }
    }

    fn forget(&self, user_id: &str) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
        if let Ok(user_id) = UserId::parse(user_id) {
            self.lock().remove(&user_id);
        }
    }

    fn forget_all(&self) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
        self.lock().clear();
    }

    fn stop_listening(&self) {
        self.listening.store(false, Ordering::Release);
        self.forget_all();
    }

    /// Listens for changes on `database_url` for as long as the returned task runs, listening
    /// again after each failure.
    pub fn listen(self: &Arc<Self>, database_url: SecretString) -> tokio::task::JoinHandle<()> {
        let cache = Arc::clone(self);
        tokio::spawn(async move {
            loop {
                cache.listen_once(&database_url).await;
                cache.stop_listening();
                tokio::time::sleep(RETRY).await;
            }
        })
    }

    /// One listening session: returns when its connection fails or stops answering.
    async fn listen_once(&self, database_url: &SecretString) {
        let mut config = match database_url
            .expose_secret()
            .parse::<tokio_postgres::Config>()
        {
            Ok(config) => config,
            Err(error) => {
                tracing::warn!(%error, "cannot listen for connection changes; reading every connection from the database");
                return;
            }
        };
        config.application_name(LISTENER_NAME);
        let connected = tokio::time::timeout(Duration::from_secs(5), config.connect(NoTls)).await;
        let (client, mut connection) = match connected {
            Ok(Ok(pair)) => pair,
            Ok(Err(error)) => {
                tracing::warn!(%error, "cannot listen for connection changes; reading every connection from the database");
                return;
            }
            Err(_) => {
                tracing::warn!(
                    "cannot listen for connection changes (connecting took too long); reading every connection from the database"
                );
                return;
            }
        };
        // The connection's messages: notices, and the end of the connection.
        let (notices, mut received) = tokio::sync::mpsc::unbounded_channel();
        let driver = tokio::spawn(async move {
            let mut messages = futures::stream::poll_fn(|cx| connection.poll_message(cx));
            while let Some(Ok(message)) = messages.next().await {
                if let AsyncMessage::Notification(notice) = message
                    && notices.send(notice.payload().to_owned()).is_err()
                {
                    break;
                }
            }
        });
        let statement = format!("LISTEN {CHANNEL}");
        let listen = client.batch_execute(&statement);
        if !matches!(
            tokio::time::timeout(HEARTBEAT_TIMEOUT, listen).await,
            Ok(Ok(()))
        ) {
            driver.abort();
            return;
        }
        self.forget_all();
        self.listening.store(true, Ordering::Release);
        tracing::info!("listening for connection changes; connections are kept in memory");
        let mut heartbeat = tokio::time::interval(HEARTBEAT);
        loop {
            tokio::select! {
                notice = received.recv() => match notice {
                    Some(user_id) => self.forget(&user_id),
                    None => break,
                },
                _ = heartbeat.tick() => {
                    let answered =
                        tokio::time::timeout(HEARTBEAT_TIMEOUT, client.simple_query("SELECT 1")).await;
                    if !matches!(answered, Ok(Ok(_))) {
                        break;
                    }
                }
            }
        }
        tracing::warn!(
            "stopped listening for connection changes; reading every connection from the database until it listens again"
        );
        driver.abort();
    }

    fn observe(&self, hit: bool) {
        if let Some(observer) = &self.observer {
            observer.looked_up(CacheKind::Connections, hit);
        }
    }
}

/// A [`TokenRepository`] that answers `load` from the [`ConnectionCache`] while it listens, and
/// forgets what it changes itself at once (the notice comes too).
#[derive(Clone)]
pub struct ListenedTokens {
    inner: Arc<dyn TokenRepository>,
    cache: Arc<ConnectionCache>,
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

    async fn load(&self, user_id: &UserId) -> Result<Option<CalendlyConnection>, RepositoryError> {
        let epoch = self.cache.epoch.load(Ordering::Acquire);
        let listening = self.cache.is_listening();
        if listening && let Some(kept) = self.cache.lock().get(user_id) {
            self.cache.observe(true);
            return Ok(Some(kept.clone()));
        }
        self.cache.observe(false);
        let loaded = self.inner.load(user_id).await?;
        if let Some(connection) = &loaded
            && listening
            && self.cache.is_listening()
            && self.cache.epoch.load(Ordering::Acquire) == epoch
        {
            let mut entries = self.cache.lock();
            if entries.len() < self.cache.max_users {
                entries.insert(user_id.clone(), connection.clone());
            }
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
