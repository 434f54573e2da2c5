//! Redis, the tier every instance shares under its own in-process caches: what one instance
//! learned from Calendly (event types, available and busy times, an account's rate budget) the
//! others find there instead of asking Calendly again.
//!
//! The tier is a help, never a need. Every operation has a deadline; a failed or late one
//! counts as "not there", and for a second after a failure the tier is not asked at all (so a
//! Redis that hangs costs one deadline a second, not one per request). Each instance then goes
//! on with what it keeps itself; one warning is logged per outage, and sharing resumes by itself
//! when an operation succeeds again. Connections are made in the background, a few multiplexed
//! ones that reconnect by themselves (`redis`'s connection manager), never on a request's time.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{FromRedisValue, ScriptInvocation};
use tokio::time::Instant;

/// `duration` in whole milliseconds, at least one: for the expiries and deadlines given to
/// Redis, which refuses zero.
pub(crate) fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis())
        .unwrap_or(u64::MAX)
        .max(1)
}

/// How long the tier is left alone after a failed operation.
const REST_AFTER_FAILURE: Duration = Duration::from_secs(1);

/// Is told how the tier fares: for metrics.
pub trait SharedTierObserver: Send + Sync + fmt::Debug {
    /// An operation (`op`) failed or ran past its deadline.
    fn failed(&self, op: &'static str);
    /// Whether the tier answers now (told on every change).
    fn reachable(&self, up: bool);
}

/// How to reach the tier.
#[derive(Clone)]
pub struct SharedTierSettings {
    /// `redis://[user:password@]host:port[/db]`; holds a password, so never printed.
    pub url: String,
    /// Put before every key, so that several deployments (or tests) can share one Redis.
    pub prefix: String,
    /// The deadline of each operation, and of each connection attempt.
    pub timeout: Duration,
    /// Multiplexed connections kept open.
    pub connections: usize,
    /// A PEM file of a CA trusted for `rediss://` beside the system's roots.
    pub ca_file: Option<String>,
}

impl fmt::Debug for SharedTierSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedTierSettings")
            .field("url", &"[redacted]")
            .field("prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .field("connections", &self.connections)
            .field("ca_file", &self.ca_file)
            .finish()
    }
}

/// One connection, once made.
#[derive(Default)]
struct Slot {
    manager: Mutex<Option<ConnectionManager>>,
    connecting: AtomicBool,
}

struct Inner {
    client: redis::Client,
    prefix: String,
    timeout: Duration,
    slots: Box<[Slot]>,
    next: AtomicUsize,
    /// Until when the tier is not asked, after a failure.
    resting_until: Mutex<Option<Instant>>,
    /// Whether the last operation failed (a warning was logged for this outage).
    down: AtomicBool,
    observer: Option<Arc<dyn SharedTierObserver>>,
}

/// The shared tier. Clones share its connections.
#[derive(Clone)]
pub struct SharedTier {
    inner: Arc<Inner>,
}

impl fmt::Debug for SharedTier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedTier")
            .field("prefix", &self.inner.prefix)
            .field("down", &self.inner.down.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// Settings the tier cannot use.
#[derive(Debug, thiserror::Error)]
pub enum InvalidRedisUrl {
    #[error("cache.redis_url is not a Redis URL: {0}")]
    Url(String),
    #[error("cache.redis_ca_file {path:?} cannot be read: {reason}")]
    CaFile { path: String, reason: String },
}

/// The roots `rediss://` trusts with `ca_file`: its certificates and the system's, as PEM.
fn trusted_roots(ca_file: &str) -> Result<Vec<u8>, InvalidRedisUrl> {
    use base64::Engine as _;
    let unreadable = |reason: String| InvalidRedisUrl::CaFile {
        path: ca_file.to_owned(),
        reason,
    };
    let mut pem = std::fs::read(ca_file).map_err(|e| unreadable(e.to_string()))?;
    if !String::from_utf8_lossy(&pem).contains("-----BEGIN CERTIFICATE-----") {
        return Err(unreadable("it holds no PEM certificate".into()));
    }
    pem.push(b'\n');
    for certificate in rustls_native_certs::load_native_certs().certs {
        let text = base64::engine::general_purpose::STANDARD.encode(certificate.as_ref());
        pem.extend_from_slice(b"-----BEGIN CERTIFICATE-----\n");
        for line in text.as_bytes().chunks(64) {
            pem.extend_from_slice(line);
            pem.push(b'\n');
        }
        pem.extend_from_slice(b"-----END CERTIFICATE-----\n");
    }
    Ok(pem)
}

impl SharedTier {
    /// The tier at `settings.url`; connects in the background, from the first operation on.
    pub fn new(
        settings: &SharedTierSettings,
        observer: Option<Arc<dyn SharedTierObserver>>,
    ) -> Result<Self, InvalidRedisUrl> {
        crate::tls_provider::install_tls_provider();
        // The URL's own text is not repeated: it may hold a password.
        let invalid = |e: redis::RedisError| InvalidRedisUrl::Url(format!("{:?}", e.kind()));
        let client = match &settings.ca_file {
            Some(ca_file) => redis::Client::build_with_tls(
                settings.url.as_str(),
                redis::TlsCertificates {
                    client_tls: None,
                    root_cert: Some(trusted_roots(ca_file)?),
                },
            )
            .map_err(invalid)?,
            None => redis::Client::open(settings.url.as_str()).map_err(invalid)?,
        };
        Ok(Self {
            inner: Arc::new(Inner {
                client,
                prefix: settings.prefix.clone(),
                timeout: settings.timeout,
                slots: (0..settings.connections.max(1))
                    .map(|_| Slot::default())
                    .collect(),
                next: AtomicUsize::new(0),
                resting_until: Mutex::new(None),
                down: AtomicBool::new(false),
                observer,
            }),
        })
    }

    /// The name of the key of `name`'s `kind` (after the tier's prefix).
    pub(crate) fn key(&self, kind: &str, name: &str) -> String {
        format!("{}{kind}:{name}", self.inner.prefix)
    }

    /// Runs `invocation` with a deadline: its answer, or `None` when the tier is resting,
    /// not yet connected, failed or late.
    pub(crate) async fn run<T: FromRedisValue>(
        &self,
        op: &'static str,
        invocation: &ScriptInvocation<'_>,
    ) -> Option<T> {
        if self.resting() {
            return None;
        }
        let mut connection = self.connection()?;
        match tokio::time::timeout(
            self.inner.timeout,
            invocation.invoke_async::<T>(&mut connection),
        )
        .await
        {
            Ok(Ok(answer)) => {
                if self.inner.down.swap(false, Ordering::AcqRel) {
                    tracing::info!("the shared cache (Redis) answers again; sharing resumed");
                    self.tell(|observer| observer.reachable(true));
                }
                Some(answer)
            }
            Ok(Err(error)) => {
                self.failed(op, &format!("{:?}", error.kind()));
                None
            }
            Err(_) => {
                self.failed(op, "no answer within cache.redis_timeout_ms");
                None
            }
        }
    }

    fn resting(&self) -> bool {
        let mut until = self
            .inner
            .resting_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match *until {
            Some(at) if at > Instant::now() => true,
            Some(_) => {
                *until = None;
                false
            }
            None => false,
        }
    }

    fn failed(&self, op: &'static str, why: &str) {
        *self
            .inner
            .resting_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(Instant::now() + REST_AFTER_FAILURE);
        self.tell(|observer| observer.failed(op));
        if !self.inner.down.swap(true, Ordering::AcqRel) {
            tracing::warn!(
                op,
                reason = why,
                "the shared cache (Redis) failed; each instance goes on with its own cache until it answers again"
            );
            self.tell(|observer| observer.reachable(false));
        } else {
            tracing::debug!(op, reason = why, "the shared cache (Redis) failed again");
        }
    }

    fn tell(&self, what: impl Fn(&dyn SharedTierObserver)) {
        if let Some(observer) = &self.inner.observer {
            what(observer.as_ref());
        }
    }

    /// The next connection, if made; otherwise one is begun in the background.
    fn connection(&self) -> Option<ConnectionManager> {
        let at = self.inner.next.fetch_add(1, Ordering::Relaxed) % self.inner.slots.len();
        let slot = &self.inner.slots[at];
        if let Some(manager) = slot
            .manager
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
        {
            return Some(manager);
        }
        if !slot.connecting.swap(true, Ordering::AcqRel) {
            let tier = self.clone();
            tokio::spawn(async move { tier.connect(at).await });
        }
        None
    }

    async fn connect(&self, at: usize) {
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(self.inner.timeout)
            .set_response_timeout(self.inner.timeout)
            .set_number_of_retries(1);
        let slot = &self.inner.slots[at];
        match tokio::time::timeout(
            self.inner.timeout * 4,
            self.inner.client.get_connection_manager_with_config(config),
        )
        .await
        {
            Ok(Ok(manager)) => {
                *slot.manager.lock().unwrap_or_else(PoisonError::into_inner) = Some(manager);
            }
            // Its text names what failed (a certificate not trusted, say), never the URL.
            Ok(Err(error)) => self.failed("connect", &error.to_string()),
            Err(_) => {
                // The manager's retries outlasted the deadline: one plain attempt tells why
                // (a certificate not trusted, say), on this failing path only.
                let attempt = tokio::time::timeout(
                    self.inner.timeout * 4,
                    self.inner.client.get_multiplexed_async_connection(),
                )
                .await;
                let why = match attempt {
                    Ok(Err(error)) => error.to_string(),
                    _ => "no connection within the deadline".to_owned(),
                };
                self.failed("connect", &why);
            }
        }
        slot.connecting.store(false, Ordering::Release);
    }

    /// Whether a connection is made (whether it still works, the next operation tells).
    pub fn is_connected(&self) -> bool {
        self.inner.slots.iter().any(|slot| {
            slot.manager
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .is_some()
        })
    }

    /// Makes its connections now (in the background), so that the first requests share.
    pub fn start(&self) {
        for _ in 0..self.inner.slots.len() {
            let _ = self.connection();
        }
    }
}
