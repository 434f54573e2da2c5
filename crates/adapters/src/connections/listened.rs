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
//! is kept only if the epoch did not move while it ran (checked under the lock forgetting
//! removes under).
//!
//! The same holds for the answers kept by account (the other instances' forgettings arrive as
//! notices here): while the listener is not listening, the account cache serves none it kept
//! itself, and when it listens again everything kept before is forgotten.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use domain::{AccountCache, CalendlyConnection, CalendlyUserUri, UserId};
use futures::StreamExt;
use secrecy::{ExposeSecret, SecretString};
use tokio_postgres::AsyncMessage;

use crate::cache::{CacheKind, CacheObserver};
use crate::hashing::HashMap;

/// The channel the trigger notifies on.
pub const CHANNEL: &str = "calendly_connections";
/// The channel instances tell each other on that an account's answers changed (a webhook, a
/// connect): `<instance> <times|all> <when it forgot, ns since the epoch> <account URI>`.
pub const ACCOUNTS_CHANNEL: &str = "calendly_accounts";
/// How often the listener checks that its connection still answers.
pub const HEARTBEAT: Duration = Duration::from_millis(250);
/// How long it waits for that answer: with the period, what a change may take to be seen
/// when the listener's connection dies without a word (well under a second).
const HEARTBEAT_TIMEOUT: Duration = Duration::from_millis(500);
/// The listener's `application_name`, as `pg_stat_activity` shows it.
pub const LISTENER_NAME: &str = "calendly-gateway-listener";
/// How long it waits before listening again after a failure.
const RETRY: Duration = Duration::from_millis(500);

/// How a listening session ended.
enum Listened {
    /// It listened, then its connection failed or stopped answering.
    Stopped,
    /// It could not listen, for this reason.
    Never(String),
}

/// The connections kept in this process, shared by every HTTP worker's repository.
pub struct ConnectionCache {
    entries: Mutex<HashMap<UserId, Arc<CalendlyConnection>>>,
    pub(super) epoch: AtomicU64,
    listening: AtomicBool,
    pub(super) max_users: usize,
    observer: Option<Arc<dyn CacheObserver>>,
    /// This process's name in the notices it sends, so that it skips its own.
    instance: String,
    /// Where the answers remembered by account are forgotten when another instance says so.
    pub(super) accounts: std::sync::OnceLock<Arc<dyn AccountCache>>,
    /// Notices to send, through the listener's connection.
    outgoing: Mutex<Option<tokio::sync::mpsc::UnboundedSender<String>>>,
    /// Notices told while not listening, sent when it listens again (the newest
    /// [`MOST_PENDING`]).
    pending: Mutex<std::collections::VecDeque<String>>,
}

/// Most notices kept for sending while the listener does not listen.
const MOST_PENDING: usize = 10_000;

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
            instance: crate::crypto::random_text(8),
            accounts: std::sync::OnceLock::new(),
            outgoing: Mutex::new(None),
            pending: Mutex::default(),
        })
    }

    /// Tells the other instances: at once while listening, else when it listens again (an
    /// instance that stopped listening meanwhile forgets everything when it listens again).
    pub(super) fn tell(&self, what: &str, account: &CalendlyUserUri) {
        // When it forgot, which the others hold every answer against, whatever tier it is in.
        let at = chrono::Utc::now().timestamp_nanos_opt().unwrap_or(i64::MAX);
        let notice = format!("{} {what} {at} {}", self.instance, account.as_str());
        let outgoing = self.outgoing.lock().unwrap_or_else(PoisonError::into_inner);
        let unsent = match outgoing.as_ref() {
            Some(outgoing) => outgoing.send(notice).err().map(|error| error.0),
            None => Some(notice),
        };
        if let Some(notice) = unsent {
            let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
            if pending.len() == MOST_PENDING {
                pending.pop_front();
            }
            pending.push_back(notice);
        }
    }

    /// A notice from another instance on [`ACCOUNTS_CHANNEL`]: `<instance> <times|all> <when,
    /// ns> <account>`.
    async fn heard(&self, notice: &str) {
        let mut parts = notice.splitn(4, ' ');
        let (Some(instance), Some(what), Some(at), Some(account)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return;
        };
        let (Some(local), Ok(account), Ok(at)) = (
            self.accounts.get(),
            CalendlyUserUri::parse(account),
            at.parse::<i64>(),
        ) else {
            return;
        };
        if instance == self.instance {
            return;
        }
        let at = chrono::DateTime::from_timestamp_nanos(at);
        match what {
            "times" => local.forget_since(&account, false, at).await,
            "all" => local.forget_since(&account, true, at).await,
            _ => {}
        }
    }

    pub(super) fn lock(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<UserId, Arc<CalendlyConnection>>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether connections are kept now (the listener is listening).
    pub fn is_listening(&self) -> bool {
        self.listening.load(Ordering::Acquire)
    }

    /// Keeps `connection`, read at `epoch`, unless anything was forgotten since (or the
    /// listener stopped): checked under the lock that forgetting removes under, after it
    /// moved the epoch on, so that a forgetting is either seen here or removes what this kept.
    pub(super) fn keep_unless_forgotten_since(
        &self,
        epoch: u64,
        user_id: &UserId,
        connection: &Arc<CalendlyConnection>,
    ) -> bool {
        let mut entries = self.lock();
        let unchanged = self.is_listening() && self.epoch.load(Ordering::Acquire) == epoch;
        let kept = unchanged && entries.len() < self.max_users;
        if kept {
            entries.insert(user_id.clone(), Arc::clone(connection));
        }
        kept
    }

    pub(super) fn forget(&self, user_id: &str) {
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
        self.outgoing
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        self.listening.store(false, Ordering::Release);
        self.forget_all();
    }

    /// Listens for changes on `database_url` for as long as the returned task runs, listening
    /// again after each failure.
    pub fn listen(self: &Arc<Self>, database_url: SecretString) -> tokio::task::JoinHandle<()> {
        let cache = Arc::clone(self);
        // Read once: the URL, its TLS settings and their trusted roots do not change between
        // attempts.
        let connector = crate::postgres::PgConnector::new(database_url.expose_secret())
            .map_err(|error| error.to_string());
        tokio::spawn(async move {
            // Failures in a row: the first is a warning, the rest (every half second while the
            // database is away) only debug lines.
            let mut failures = 0_u64;
            loop {
                let listened = match &connector {
                    Ok(connector) => cache.listen_once(connector).await,
                    Err(reason) => Listened::Never(reason.clone()),
                };
                match listened {
                    Listened::Stopped => {
                        failures = 0;
                        tracing::warn!(
                            "stopped listening for connection changes; reading every connection from the database until it listens again"
                        );
                    }
                    Listened::Never(reason) if failures == 0 => {
                        failures += 1;
                        tracing::warn!(%reason, "cannot listen for connection changes; reading every connection from the database");
                    }
                    Listened::Never(reason) => {
                        failures += 1;
                        tracing::debug!(%reason, failures, "still cannot listen for connection changes");
                    }
                }
                cache.stop_listening();
                // The other instances' notices are not heard until it listens again: the
                // answers kept by account are forgotten, and none is kept meanwhile.
                if let Some(accounts) = cache.accounts.get() {
                    accounts.hearing(false).await;
                }
                tokio::time::sleep(RETRY).await;
            }
        })
    }

    /// One listening session: returns when its connection fails or stops answering.
    async fn listen_once(&self, connector: &crate::postgres::PgConnector) -> Listened {
        let mut config = connector.config().clone();
        config.application_name(LISTENER_NAME);
        let connected =
            tokio::time::timeout(Duration::from_secs(5), connector.connect_with(&config)).await;
        let (client, mut connection) = match connected {
            Ok(Ok(pair)) => pair,
            Ok(Err(error)) => return Listened::Never(crate::errors::error_chain(&error)),
            Err(_) => return Listened::Never("connecting took too long".into()),
        };
        // The connection's messages: notices, and the end of the connection.
        let (notices, mut received) = tokio::sync::mpsc::unbounded_channel();
        let driver = tokio::spawn(async move {
            let mut messages = futures::stream::poll_fn(|cx| connection.poll_message(cx));
            while let Some(Ok(message)) = messages.next().await {
                if let AsyncMessage::Notification(notice) = message
                    && notices
                        .send((notice.channel() == CHANNEL, notice.payload().to_owned()))
                        .is_err()
                {
                    break;
                }
            }
        });
        let statement = format!("LISTEN {CHANNEL}; LISTEN {ACCOUNTS_CHANNEL}");
        let listen = client.batch_execute(&statement);
        if !matches!(
            tokio::time::timeout(HEARTBEAT_TIMEOUT, listen).await,
            Ok(Ok(()))
        ) {
            driver.abort();
            return Listened::Never("LISTEN was not answered".into());
        }
        self.forget_all();
        self.listening.store(true, Ordering::Release);
        // Notices sent before now were missed: what was kept by account (nothing, since it
        // stopped hearing, unless this is its first session) is forgotten once more.
        if let Some(accounts) = self.accounts.get() {
            accounts.hearing(true).await;
        }
        let (outgoing, mut to_send) = tokio::sync::mpsc::unbounded_channel::<String>();
        {
            // Under the lock `tell` sends under: every notice told meanwhile goes out once.
            let mut kept = self.outgoing.lock().unwrap_or_else(PoisonError::into_inner);
            let pending =
                std::mem::take(&mut *self.pending.lock().unwrap_or_else(PoisonError::into_inner));
            for notice in pending {
                let _ = outgoing.send(notice);
            }
            *kept = Some(outgoing);
        }
        tracing::info!("listening for connection changes; connections are kept in memory");
        let mut heartbeat = tokio::time::interval(HEARTBEAT);
        loop {
            tokio::select! {
                notice = received.recv() => match notice {
                    Some((true, user_id)) => self.forget(&user_id),
                    Some((false, account)) => self.heard(&account).await,
                    None => break,
                },
                Some(notice) = to_send.recv() => {
                    let parameters: [&(dyn tokio_postgres::types::ToSql + Sync); 2] =
                        [&ACCOUNTS_CHANNEL, &notice];
                    let sent = client.execute("SELECT pg_notify($1, $2)", &parameters);
                    if !matches!(tokio::time::timeout(HEARTBEAT_TIMEOUT, sent).await, Ok(Ok(_))) {
                        break;
                    }
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
        driver.abort();
        Listened::Stopped
    }

    pub(super) fn observe(&self, hit: bool) {
        if let Some(observer) = &self.observer {
            observer.looked_up(CacheKind::Connections, hit);
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use domain::{CalendlyCredential, CalendlyToken, CalendlyUser, Webhooks};

    use super::*;

    fn connection(user: &str) -> CalendlyConnection {
        CalendlyConnection {
            user_id: UserId::parse(user).expect("user"),
            credential: CalendlyCredential::PersonalAccessToken(
                CalendlyToken::parse("pat").expect("token"),
            ),
            calendly_user: CalendlyUser {
                uri: CalendlyUserUri::parse("https://api.calendly.com/users/A").expect("uri"),
                name: "A".into(),
                email: "a@example.com".into(),
                scheduling_url: "https://calendly.com/a".into(),
                timezone: "UTC".into(),
                organization: None,
            },
            connected_at: Utc::now(),
            webhooks: Webhooks::Off,
            scopes: None,
        }
    }

    #[test]
    fn a_read_overtaken_by_a_forgetting_is_not_kept_and_one_kept_before_is_removed() {
        let cache = ConnectionCache::new(10, None);
        cache.listening.store(true, Ordering::Release);
        let read = Arc::new(connection("u1"));
        // Read at one epoch, forgotten while the read ran: not kept.
        let epoch = cache.epoch.load(Ordering::Acquire);
        cache.forget("u1");
        assert!(!cache.keep_unless_forgotten_since(epoch, &read.user_id, &read));
        assert!(cache.lock().is_empty());
        // Read and kept, then forgotten: gone.
        let epoch = cache.epoch.load(Ordering::Acquire);
        assert!(cache.keep_unless_forgotten_since(epoch, &read.user_id, &read));
        cache.forget("u1");
        assert!(cache.lock().is_empty());
        // Not listening: nothing is kept.
        cache.stop_listening();
        let epoch = cache.epoch.load(Ordering::Acquire);
        assert!(!cache.keep_unless_forgotten_since(epoch, &read.user_id, &read));
    }
}
