//! What the HTTP workers share, and the wiring of each worker's adapters into the use cases.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use adapters::cache::{CacheObserver, CacheSettings, ProviderCache};
use adapters::calendly::{
    CalendlyClient, CalendlyClientSettings, CalendlyDeliveries, CalendlyOAuthClient,
    CalendlyOAuthSettings, CallObserver, CircuitBreaker, RateBudgets,
};
use adapters::connections::ConnectionCache;
use adapters::crypto::TokenCipher;
use adapters::jwt::JwtUserAuth;
use adapters::tasks::TokioTasks;
use chrono::TimeDelta;
use domain::booking::BookingProvider;
use domain::{
    AccountCache, AvailabilityPolicy, BookingPorts, KeptAnswers, OAuthProvider, Ports, Renewals,
    SchedulingProvider, SchedulingService, SigningKey, SystemClock, TokenRepository, UserAuth,
    WebhookPolicy, WebhookSubscriptions,
};
use secrecy::ExposeSecret;

use super::database::{Storage, connection_cache, shared_tier, storage};
use super::error::StartupError;
use super::provider::Given;
use crate::metrics::Metrics;
use crate::settings::Settings;
use crate::state::AppState;

/// Keep-alive connections to Calendly kept open between requests.
const CALENDLY_IDLE_CONNECTIONS: usize = 64;

/// What is remembered of Calendly's answers, and how: windows of a week, or of what Calendly
/// answers in one call when that is shorter.
fn cache_settings(settings: &Settings, start_lead: TimeDelta) -> CacheSettings {
    let cache = &settings.cache;
    let mib = |value: u64| value.saturating_mul(1024 * 1024);
    let window = |days: u32| TimeDelta::days(i64::from(days.clamp(1, 7)));
    CacheSettings {
        event_types_ttl: Duration::from_secs(cache.event_types_ttl_secs),
        event_types_max_accounts: cache.event_types_max_users,
        event_types_max_bytes: mib(cache.event_types_max_mib),
        availability_ttl: Duration::from_secs(cache.availability_ttl_secs),
        availability_max_windows: cache.availability_max_windows,
        availability_max_bytes: mib(cache.availability_max_mib),
        ready_max_bytes: mib(cache.ready_max_mib),
        available_window: window(settings.calendly.max_days_per_call),
        busy_window: window(settings.calendly.max_busy_days_per_call),
        available_span: TimeDelta::days(i64::from(settings.calendly.max_days_per_call)),
        busy_span: TimeDelta::days(i64::from(settings.calendly.max_busy_days_per_call)),
        start_lead,
        // The deadline of a call holds its one retry; twice that, for a margin.
        longest_load: Duration::from_millis(settings.calendly.timeout_ms.saturating_mul(2)),
    }
}

/// How `database.pool_max_size` connections are shared by the HTTP workers, so that they
/// add up to that size.
#[derive(Clone)]
enum PoolShares {
    /// A pool per worker: each factory call takes the next of these sizes.
    PerWorker {
        sizes: Arc<[usize]>,
        next: Arc<AtomicUsize>,
    },
    /// Fewer connections than workers: one pool for all of them.
    One(Storage),
}

impl PoolShares {
    /// `total` connections as `workers` sizes differing by one at most, e.g. 10 for 4 workers
    /// as 3, 3, 2, 2.
    fn sizes(total: usize, workers: usize) -> Vec<usize> {
        (0..workers)
            .map(|i| total / workers + usize::from(i < total % workers))
            .collect()
    }
}

/// What every HTTP worker shares: the configuration, the availability policy, the access-token
/// check, the token cipher, what is remembered of Calendly's answers, the renewals in flight
/// and the metrics.
#[derive(Clone)]
pub(super) struct Shared {
    settings: Settings,
    pub(super) workers: usize,
    policy: AvailabilityPolicy,
    cipher: Arc<TokenCipher>,
    user_auth: Arc<dyn UserAuth>,
    provider_cache: ProviderCache,
    pub(super) metrics: Arc<Metrics>,
    circuit: Arc<CircuitBreaker>,
    budgets: Arc<RateBudgets>,
    /// Each account's bookings left: Calendly limits them apart.
    booking_budgets: Arc<RateBudgets>,
    renewals: Arc<Renewals>,
    pools: PoolShares,
    /// Connections kept in memory (PostgreSQL), shared by every worker's repository.
    connections: Option<Arc<ConnectionCache>>,
    /// Another provider than Calendly, when the application was built with one.
    pub(super) scheduling: Option<Arc<dyn SchedulingProvider>>,
}

/// The shortest lead of the earliest start asked of Calendly over now (see
/// [`AvailabilityPolicy::start_lead`]).
const MIN_START_LEAD: TimeDelta = TimeDelta::minutes(1);
/// Clock difference between the gateway and Calendly allowed for in the start lead.
const CLOCK_SKEW: TimeDelta = TimeDelta::seconds(5);

impl Shared {
    pub(super) fn new(settings: &Settings) -> Result<Self, StartupError> {
        let workers = match settings.server.workers {
            0 => std::thread::available_parallelism().map_or(1, usize::from),
            n => n,
        };
        let cipher = Arc::new(TokenCipher::from_keys(&settings.token_encryption_keys())?);
        let metrics = Arc::new(Metrics::new());
        let total = settings.database.pool_max_size;
        let pools = if total >= workers {
            PoolShares::PerWorker {
                sizes: PoolShares::sizes(total, workers).into(),
                next: Arc::new(AtomicUsize::new(0)),
            }
        } else {
            PoolShares::One(storage(
                settings,
                Arc::clone(&cipher),
                total,
                Some(&metrics),
            )?)
        };
        // A start sent to Calendly is read by it at most the call's deadline later.
        // (`calendly.timeout_ms` is validated to at most ten minutes.)
        let start_lead = (TimeDelta::milliseconds(
            i64::try_from(settings.calendly.timeout_ms).unwrap_or(i64::MAX / 2),
        ) + CLOCK_SKEW)
            .max(MIN_START_LEAD);
        let connections = connection_cache(settings, &metrics);
        let shared = shared_tier(settings, &metrics)?;
        Ok(Self {
            settings: settings.clone(),
            workers,
            policy: AvailabilityPolicy {
                max_range: TimeDelta::days(i64::from(settings.limits.max_range_days)),
                max_call_span: TimeDelta::days(i64::from(settings.calendly.max_days_per_call)),
                max_busy_call_span: TimeDelta::days(i64::from(
                    settings.calendly.max_busy_days_per_call,
                )),
                max_concurrent_calls: settings.calendly.max_concurrent_calls_per_request,
                max_event_types: settings.limits.max_event_types_per_request,
                start_lead,
            },
            cipher,
            user_auth: Arc::new(JwtUserAuth::new(&settings.auth.jwt_secret)),
            provider_cache: ProviderCache::new(
                cache_settings(settings, start_lead),
                Arc::new(SystemClock),
                Some(Arc::new(metrics.freshness.clone()) as Arc<dyn CacheObserver>),
                shared.clone(),
            ),
            metrics,
            circuit: Arc::new(CircuitBreaker::new(
                settings.calendly.circuit_breaker_failures,
                Duration::from_millis(settings.calendly.circuit_breaker_open_ms),
            )),
            renewals: Arc::default(),
            budgets: Arc::new(
                shared
                    .clone()
                    .map_or_else(RateBudgets::default, RateBudgets::shared),
            ),
            booking_budgets: Arc::new(shared.map_or_else(RateBudgets::default, |tier| {
                RateBudgets::shared_as(tier, "booking_rate")
            })),
            pools,
            connections,
            scheduling: None,
        })
    }

    /// The use cases wired for the next HTTP worker thread. Its database pool (its share of
    /// `database.pool_max_size`) and its Calendly client are its own: a connection is served by
    /// the thread that opened it, so sharing them across workers would make every query and
    /// Calendly call hop between threads.
    pub(super) fn next_worker_state(&self) -> Result<AppState, StartupError> {
        let storage = match &self.pools {
            PoolShares::One(storage) => storage.clone(),
            PoolShares::PerWorker { sizes, next } => {
                let size = sizes[next.fetch_add(1, Ordering::Relaxed) % sizes.len()];
                storage(
                    &self.settings,
                    Arc::clone(&self.cipher),
                    size,
                    Some(&self.metrics),
                )?
            }
        };
        self.worker_state(storage)
    }

    fn worker_state(&self, storage: Storage) -> Result<AppState, StartupError> {
        let settings = &self.settings;
        let client = CalendlyClient::new(&CalendlyClientSettings {
            api_base_url: settings.calendly.api_base_url.clone(),
            timeout: settings.calendly_timeout(),
            connect_timeout: settings.calendly_connect_timeout(),
            max_idle_connections: CALENDLY_IDLE_CONNECTIONS,
            observer: Some(Arc::clone(&self.metrics) as Arc<dyn CallObserver>),
            circuit: Arc::clone(&self.circuit),
            budgets: Arc::clone(&self.budgets),
            booking_budgets: Arc::clone(&self.booking_budgets),
        })?;
        let application = settings.oauth_application();
        let oauth = match &application {
            Some(application) => Some(Arc::new(CalendlyOAuthClient::new(CalendlyOAuthSettings {
                auth_base_url: settings.calendly.auth_base_url.clone(),
                client_id: application.client_id.clone(),
                client_secret: application.client_secret.clone(),
                redirect_uri: application.redirect_uri.clone(),
                scopes: application.scopes.clone(),
                timeout: settings.calendly_timeout(),
                connect_timeout: settings.calendly_connect_timeout(),
                observer: Some(Arc::clone(&self.metrics) as Arc<dyn CallObserver>),
            })?) as Arc<dyn OAuthProvider>),
            None => None,
        };
        let tokens = match &self.connections {
            Some(cache) => Arc::new(cache.wrap(storage.tokens)) as Arc<dyn TokenRepository>,
            None => storage.tokens,
        };
        let ports = Ports {
            tokens: Arc::clone(&tokens),
            subscriptions: Arc::new(client.clone()) as Arc<dyn WebhookSubscriptions>,
            deliveries: Arc::new(CalendlyDeliveries),
            scheduling: match &self.scheduling {
                Some(given) => Arc::new(self.provider_cache.wrap(Given(Arc::clone(given))))
                    as Arc<dyn SchedulingProvider>,
                None => Arc::new(self.provider_cache.wrap(client.clone()))
                    as Arc<dyn SchedulingProvider>,
            },
            // Forgotten in the shared tier first, then here, and by the other instances when
            // they hear of it.
            account_cache: self
                .provider_cache
                .forgetting_shared(match &self.connections {
                    Some(cache) => {
                        Arc::new(cache.share_forgetting(Arc::new(self.provider_cache.clone())))
                            as Arc<dyn AccountCache>
                    }
                    None => Arc::new(self.provider_cache.clone()) as Arc<dyn AccountCache>,
                }),
            answers: Arc::new(self.provider_cache.clone()) as Arc<dyn KeptAnswers>,
            oauth,
            oauth_starts: storage.oauth_starts,
            tasks: Arc::new(TokioTasks),
            clock: Arc::new(SystemClock),
        };
        // Bookings go to Calendly; a provider given in its place (an in-memory one) does not
        // book.
        let bookings = self.scheduling.is_none().then(|| BookingPorts {
            provider: Arc::new(client.clone()) as Arc<dyn BookingProvider>,
            keys: storage.booking_keys,
            holds: storage.slot_holds,
        });
        let service = SchedulingService::new(ports, self.policy);
        let service = match bookings {
            Some(bookings) => service.with_bookings(bookings),
            None => service,
        };
        Ok(AppState {
            service: service
                .sharing(Arc::clone(&self.renewals))
                .with_webhooks(WebhookPolicy {
                    public_base_url: settings.webhooks.public_base_url.clone(),
                    tolerance: TimeDelta::seconds(
                        i64::try_from(settings.webhooks.tolerance_secs).unwrap_or(i64::MAX),
                    ),
                    application_keys: application
                        .as_ref()
                        .map(|app| {
                            app.webhook_signing_keys
                                .iter()
                                .map(|key| SigningKey::new(key.expose_secret()))
                                .collect()
                        })
                        .unwrap_or_default(),
                }),
            user_auth: Arc::clone(&self.user_auth),
            tokens,
            return_url: application.and_then(|app| app.return_url),
        })
    }

    /// Surfaces a configuration error of the workers' wiring before serving (a pool of one
    /// connection, never used nor watched).
    pub(super) fn check_wiring(&self) -> Result<(), StartupError> {
        let storage = storage(&self.settings, Arc::clone(&self.cipher), 1, None)?;
        self.worker_state(storage).map(drop)
    }

    /// With webhooks on, looks at the connections' subscriptions in the background for the
    /// life of the process (see [`super::webhook_health`]), on a pool of its own.
    pub(super) fn start_webhook_checks(&self) -> Result<(), StartupError> {
        if self.settings.webhooks.public_base_url.is_none() {
            return Ok(());
        }
        let storage = storage(&self.settings, Arc::clone(&self.cipher), 2, None)?;
        let checks = Arc::clone(&storage.webhook_checks);
        let state = self.worker_state(storage)?;
        let interval = Duration::from_secs(self.settings.webhooks.check_interval_secs);
        drop(tokio::spawn(super::webhook_health::run(
            state.service,
            checks,
            interval,
        )));
        Ok(())
    }
}
