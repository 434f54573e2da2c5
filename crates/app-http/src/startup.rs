//! Building the application: the one place that chooses adapters and wires them into ports.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::middleware::{ErrorHandlers, NormalizePath, TrailingSlash};
use actix_web::{App, HttpServer, web};
use adapters::calendly::{CalendlyClient, CalendlyClientSettings};
use adapters::crypto::TokenCipher;
use adapters::jwt::JwtUserAuth;
use adapters::postgres::{PgPoolSettings, PgTokenRepository, build_pool, run_migrations};
use chrono::TimeDelta;
use domain::{
    AvailabilityPolicy, CalendlyService, SchedulingProvider, SystemClock, TokenRepository, UserAuth,
};
use secrecy::ExposeSecret;
use tracing_actix_web::TracingLogger;

use crate::routes;
use crate::settings::Settings;
use crate::state::AppState;

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("database.url must be a postgres:// URL")]
    UnsupportedDatabase,
    #[error(transparent)]
    Key(#[from] adapters::crypto::KeyError),
    #[error(transparent)]
    Pool(#[from] adapters::postgres::PoolSetupError),
    #[error(transparent)]
    Migration(#[from] adapters::postgres::MigrationError),
    #[error("cannot build the Calendly client: {0}")]
    HttpClient(#[from] adapters::calendly::ClientBuildError),
    #[error("cannot listen on {address}: {source}")]
    Bind {
        address: String,
        source: std::io::Error,
    },
}

/// Applies pending migrations to the configured database.
pub async fn migrate(settings: &Settings) -> Result<Vec<String>, StartupError> {
    require_postgres(settings)?;
    Ok(run_migrations(&settings.database.url).await?)
}

fn require_postgres(settings: &Settings) -> Result<(), StartupError> {
    let url = settings.database.url.expose_secret();
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(())
    } else {
        Err(StartupError::UnsupportedDatabase)
    }
}

/// The adapters chosen by configuration, wired into the use cases.
pub fn wire(settings: &Settings) -> Result<AppState, StartupError> {
    require_postgres(settings)?;
    let cipher = TokenCipher::from_base64(
        TokenCipher::DEFAULT_KEY_ID,
        &settings.calendly.token_encryption_key,
    )?;
    let pool = build_pool(&PgPoolSettings {
        url: settings.database.url.clone(),
        max_size: settings.database.pool_max_size,
        acquire_timeout: Duration::from_millis(settings.database.pool_timeout_ms),
        statement_timeout: Duration::from_millis(settings.database.statement_timeout_ms),
    })?;
    let tokens: Arc<dyn TokenRepository> = Arc::new(PgTokenRepository::new(pool, Arc::new(cipher)));
    let scheduling: Arc<dyn SchedulingProvider> =
        Arc::new(CalendlyClient::new(&CalendlyClientSettings {
            api_base_url: settings.calendly.api_base_url.clone(),
            timeout: settings.calendly_timeout(),
            max_idle_connections: settings.database.pool_max_size.max(32),
        })?);
    let user_auth: Arc<dyn UserAuth> = Arc::new(JwtUserAuth::new(&settings.auth.jwt_secret));
    let policy = AvailabilityPolicy {
        max_range: TimeDelta::days(i64::from(settings.limits.max_range_days)),
        max_call_span: TimeDelta::days(i64::from(settings.calendly.max_days_per_call)),
        max_concurrent_calls: settings.calendly.max_concurrent_calls_per_request,
    };
    Ok(AppState {
        service: CalendlyService::new(
            Arc::clone(&tokens),
            scheduling,
            Arc::new(SystemClock),
            policy,
        ),
        user_auth,
        tokens,
    })
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
        let state = wire(&settings)?;

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

        let state = web::Data::new(state);
        let mut server = HttpServer::new(move || {
            App::new()
                .wrap(ErrorHandlers::new().default_handler(routes::json_error_body))
                .wrap(NormalizePath::new(TrailingSlash::Trim))
                .wrap(TracingLogger::default())
                .app_data(state.clone())
                .configure(routes::configure)
        })
        .shutdown_timeout(settings.server.shutdown_timeout_secs);
        if settings.server.workers > 0 {
            server = server.workers(settings.server.workers);
        }
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
