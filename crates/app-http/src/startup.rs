//! Building the application: the one place that chooses adapters and wires them into ports.

use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use actix_cors::Cors;
use actix_web::dev::Server;
use actix_web::http::header;
use actix_web::middleware::{Condition, ErrorHandlers, from_fn};
use actix_web::{App, HttpServer, web};
use adapters::KeyRotation;
use adapters::cache::ProviderCache;
use adapters::calendly::{CalendlyClient, CalendlyClientSettings, CallObserver, CircuitBreaker};
use adapters::crypto::TokenCipher;
use adapters::jwt::JwtUserAuth;
use adapters::postgres::{PgPoolSettings, PgTokenRepository};
use adapters::sqlite::{SqlitePoolSettings, SqliteTokenRepository};
use chrono::TimeDelta;
use domain::{
    AccountCache, AvailabilityPolicy, CalendlyService, Ports, SchedulingProvider, SystemClock,
    TokenRepository, UserAuth,
};
use secrecy::ExposeSecret;
use tracing_actix_web::TracingLogger;

use crate::metrics::{self, Metrics};
use crate::request_id::{self, GatewayRootSpan};
use crate::routes;
use crate::settings::Settings;
use crate::state::AppState;

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Key(#[from] adapters::crypto::KeyError),
    #[error(transparent)]
    Pool(#[from] adapters::PoolSetupError),
    #[error(transparent)]
    Migration(#[from] adapters::postgres::MigrationError),
    #[error("cannot build the Calendly client: {0}")]
    HttpClient(#[from] adapters::calendly::ClientBuildError),
    #[error("database: {0}")]
    Repository(domain::RepositoryError),
    #[error("cannot listen on {address}: {source}")]
    Bind {
        address: String,
        source: std::io::Error,
    },
}

/// How much longer than its busy timeout an SQLite query may take before it is given up.
const SQLITE_QUERY_GRACE: Duration = Duration::from_secs(1);

/// Keep-alive connections to Calendly kept open between requests.
const CALENDLY_IDLE_CONNECTIONS: usize = 64;

/// Which storage adapter `database.url` selects.
enum Database<'a> {
    Postgres,
    /// The file of the embedded database.
    Sqlite(&'a str),
}

fn database(settings: &Settings) -> Database<'_> {
    let url = settings.database.url.expose_secret();
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Database::Postgres
    } else {
        Database::Sqlite(adapters::sqlite::sqlite_path(url))
    }
}

/// Applies pending migrations to the configured database (creating an SQLite file and its
/// folder when missing).
pub async fn migrate(settings: &Settings) -> Result<Vec<String>, StartupError> {
    Ok(match database(settings) {
        Database::Postgres => adapters::postgres::run_migrations(&settings.database.url).await?,
        Database::Sqlite(path) => adapters::sqlite::run_migrations(path).await?,
    })
}

fn pg_repository(
    settings: &Settings,
    cipher: Arc<TokenCipher>,
    pool_size: usize,
) -> Result<Arc<PgTokenRepository>, StartupError> {
    let pool = adapters::postgres::build_pool(&PgPoolSettings {
        url: settings.database.url.clone(),
        max_size: pool_size,
        acquire_timeout: Duration::from_millis(settings.database.pool_timeout_ms),
        statement_timeout: Duration::from_millis(settings.database.statement_timeout_ms),
    })?;
    Ok(Arc::new(PgTokenRepository::new(
        pool,
        cipher,
        Duration::from_millis(settings.database.statement_timeout_ms),
    )))
}

fn sqlite_repository(
    settings: &Settings,
    path: &str,
    cipher: Arc<TokenCipher>,
    pool_size: usize,
) -> Result<Arc<SqliteTokenRepository>, StartupError> {
    let pool = adapters::sqlite::build_pool(&SqlitePoolSettings {
        path: path.to_owned(),
        max_size: pool_size,
        acquire_timeout: Duration::from_millis(settings.database.pool_timeout_ms),
        busy_timeout: Duration::from_millis(settings.database.statement_timeout_ms),
    })?;
    Ok(Arc::new(SqliteTokenRepository::new(
        pool,
        cipher,
        // SQLite's own busy timeout answers first.
        Duration::from_millis(settings.database.statement_timeout_ms) + SQLITE_QUERY_GRACE,
    )))
}

/// The repository on the configured database, its pool watched by `metrics` when given.
fn token_repository(
    settings: &Settings,
    cipher: Arc<TokenCipher>,
    pool_size: usize,
    metrics: Option<&Metrics>,
) -> Result<Arc<dyn TokenRepository>, StartupError> {
    Ok(match database(settings) {
        Database::Postgres => {
            let repository = pg_repository(settings, cipher, pool_size)?;
            if let Some(metrics) = metrics {
                let watched = Arc::clone(&repository);
                metrics.watch_pool(move || watched.pool_status());
            }
            repository
        }
        Database::Sqlite(path) => {
            let repository = sqlite_repository(settings, path, cipher, pool_size)?;
            if let Some(metrics) = metrics {
                let watched = Arc::clone(&repository);
                metrics.watch_pool(move || watched.pool_status());
            }
            repository
        }
    })
}

/// `calendly-gateway rotate-keys`: applies pending migrations, then seals every stored token
/// with the current key (the first of `calendly.token_encryption_keys`).
pub async fn rotate_keys(settings: &Settings) -> Result<KeyRotation, StartupError> {
    migrate(settings).await?;
    let cipher = Arc::new(TokenCipher::from_keys(&settings.token_encryption_keys())?);
    let rotated = match database(settings) {
        Database::Postgres => pg_repository(settings, cipher, 2)?.rotate_keys().await,
        Database::Sqlite(path) => {
            sqlite_repository(settings, path, cipher, 2)?
                .rotate_keys()
                .await
        }
    };
    rotated.map_err(StartupError::Repository)
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
    One(Arc<dyn TokenRepository>),
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
/// check, the token cipher, what is remembered of Calendly's answers and the metrics.
#[derive(Clone)]
struct Shared {
    settings: Settings,
    workers: usize,
    policy: AvailabilityPolicy,
    cipher: Arc<TokenCipher>,
    user_auth: Arc<dyn UserAuth>,
    provider_cache: ProviderCache,
    metrics: Arc<Metrics>,
    circuit: Arc<CircuitBreaker>,
    pools: PoolShares,
}

/// The shortest lead of the earliest start asked of Calendly over now (see
/// [`AvailabilityPolicy::start_lead`]).
const MIN_START_LEAD: TimeDelta = TimeDelta::minutes(1);
/// Clock difference between the gateway and Calendly allowed for in the start lead.
const CLOCK_SKEW: TimeDelta = TimeDelta::seconds(5);

impl Shared {
    fn new(settings: &Settings) -> Result<Self, StartupError> {
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
            PoolShares::One(token_repository(
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
        Ok(Self {
            settings: settings.clone(),
            workers,
            policy: AvailabilityPolicy {
                max_range: TimeDelta::days(i64::from(settings.limits.max_range_days)),
                max_call_span: TimeDelta::days(i64::from(settings.calendly.max_days_per_call)),
                max_concurrent_calls: settings.calendly.max_concurrent_calls_per_request,
                start_lead,
            },
            cipher,
            user_auth: Arc::new(JwtUserAuth::new(&settings.auth.jwt_secret)),
            provider_cache: ProviderCache::new(
                Duration::from_secs(settings.cache.event_types_ttl_secs),
                settings.cache.event_types_max_users,
            ),
            metrics,
            circuit: Arc::new(CircuitBreaker::new(
                settings.calendly.circuit_breaker_failures,
                Duration::from_millis(settings.calendly.circuit_breaker_open_ms),
            )),
            pools,
        })
    }

    /// The use cases wired for the next HTTP worker thread. Its database pool (its share of
    /// `database.pool_max_size`) and its Calendly client are its own: a connection is served by
    /// the thread that opened it, so sharing them across workers would make every query and
    /// Calendly call hop between threads.
    fn next_worker_state(&self) -> Result<AppState, StartupError> {
        let tokens = match &self.pools {
            PoolShares::One(tokens) => Arc::clone(tokens),
            PoolShares::PerWorker { sizes, next } => {
                let size = sizes[next.fetch_add(1, Ordering::Relaxed) % sizes.len()];
                token_repository(
                    &self.settings,
                    Arc::clone(&self.cipher),
                    size,
                    Some(&self.metrics),
                )?
            }
        };
        self.worker_state(tokens)
    }

    fn worker_state(&self, tokens: Arc<dyn TokenRepository>) -> Result<AppState, StartupError> {
        let settings = &self.settings;
        let client = CalendlyClient::new(&CalendlyClientSettings {
            api_base_url: settings.calendly.api_base_url.clone(),
            timeout: settings.calendly_timeout(),
            connect_timeout: settings.calendly_connect_timeout(),
            max_idle_connections: CALENDLY_IDLE_CONNECTIONS,
            observer: Some(Arc::clone(&self.metrics) as Arc<dyn CallObserver>),
            circuit: Arc::clone(&self.circuit),
        })?;
        let ports = Ports {
            tokens: Arc::clone(&tokens),
            scheduling: Arc::new(self.provider_cache.wrap(client)) as Arc<dyn SchedulingProvider>,
            account_cache: Arc::new(self.provider_cache.clone()) as Arc<dyn AccountCache>,
            clock: Arc::new(SystemClock),
        };
        Ok(AppState {
            service: CalendlyService::new(ports, self.policy),
            user_auth: Arc::clone(&self.user_auth),
            tokens,
        })
    }

    /// Surfaces a configuration error of the workers' wiring before serving (a pool of one
    /// connection, never used nor watched).
    fn check_wiring(&self) -> Result<(), StartupError> {
        let tokens = token_repository(&self.settings, Arc::clone(&self.cipher), 1, None)?;
        self.worker_state(tokens).map(drop)
    }
}

/// CORS for the configured origins: preflights answered, the gateway's methods and headers
/// allowed, the request id and `Retry-After` readable by the page. A request from another
/// origin is served without CORS headers, so the browser keeps the answer from the page.
fn cors(origins: &[String]) -> Cors {
    let mut cors = Cors::default()
        .allowed_methods(["GET", "PUT", "DELETE"])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            request_id::X_REQUEST_ID,
        ])
        .expose_headers([request_id::X_REQUEST_ID, header::RETRY_AFTER])
        .max_age(3600)
        .block_on_origin_mismatch(false);
    for origin in origins {
        cors = if origin == "*" {
            cors.allow_any_origin()
        } else {
            cors.allowed_origin(origin)
        };
    }
    cors
}

/// A built, bound application, ready to serve.
pub struct Application {
    port: u16,
    server: Server,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

impl Application {
    /// Applies pending migrations, wires the adapters and binds the listener
    /// (`server.port = 0` picks a free port; [`Application::port`] tells which).
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        let applied = migrate(&settings).await?;
        if !applied.is_empty() {
            tracing::info!(?applied, "migrations applied");
        }
        let shared = Shared::new(&settings)?;
        shared.check_wiring()?;

        let address = format!("{}:{}", settings.server.host, settings.server.port);
        let listener = TcpListener::bind(&address).map_err(|source| StartupError::Bind {
            address: address.clone(),
            source,
        })?;
        let bound = listener.local_addr().map_err(|source| StartupError::Bind {
            address: address.clone(),
            source,
        })?;
        tracing::info!(address = %bound, "listening on http://{bound}");

        let workers = shared.workers;
        let cors_origins = settings.http.cors_allowed_origins.clone();
        let server = HttpServer::new(move || {
            let state = shared
                .next_worker_state()
                .expect("the same wiring succeeded before serving");
            App::new()
                .wrap(ErrorHandlers::new().default_handler(routes::json_error_body))
                .wrap(from_fn(routes::limit_request_head))
                .wrap(from_fn(metrics::record))
                .wrap(Condition::new(
                    !cors_origins.is_empty(),
                    cors(&cors_origins),
                ))
                .wrap(TracingLogger::<GatewayRootSpan>::new())
                .wrap(from_fn(request_id::assign))
                .app_data(web::Data::new(state))
                .app_data(web::Data::new(Arc::clone(&shared.metrics)))
                .configure(routes::configure)
        })
        .workers(workers)
        .shutdown_timeout(settings.server.shutdown_timeout_secs);
        let server = server
            .listen(listener)
            .map_err(|source| StartupError::Bind { address, source })?
            .run();
        Ok(Self {
            port: bound.port(),
            server,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until SIGINT or SIGTERM; in-flight requests finish first.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}
