//! Building the application: the one place that chooses adapters and wires them into ports.

mod database;
mod error;
mod provider;
mod webhook_health;
mod workers;

use std::net::TcpListener;
use std::sync::Arc;

use actix_cors::Cors;
use actix_web::dev::Server;
use actix_web::http::header;
use actix_web::middleware::{Condition, ErrorHandlers, from_fn};
use actix_web::{App, HttpServer, web};
use adapters::jwt::JwtIssuer;
use domain::SchedulingProvider;
use tracing_actix_web::TracingLogger;

pub use self::database::{migrate, rotate_keys};
pub use self::error::StartupError;
use self::workers::Shared;
use crate::metrics;
use crate::request_id::{self, GatewayRootSpan};
use crate::routes;
use crate::routes::demo::DemoSessions;
use crate::settings::Settings;

/// A booking's retry key, sent by pages (`POST /calendly/bookings`).
const IDEMPOTENCY_KEY: header::HeaderName = header::HeaderName::from_static("idempotency-key");
/// Said on a booking answered again for its key.
const IDEMPOTENT_REPLAYED: header::HeaderName =
    header::HeaderName::from_static("idempotent-replayed");

/// CORS for the configured origins: preflights answered, the gateway's methods and headers
/// (`Idempotency-Key` included) allowed; the request id, `Retry-After`, a booking's `Location`
/// and `Idempotent-Replayed` readable by the page. A request from another origin is served
/// without CORS headers, so the browser keeps the answer from the page.
fn cors(origins: &[String]) -> Cors {
    let mut cors = Cors::default()
        .allowed_methods(["GET", "POST", "PUT", "DELETE"])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            request_id::X_REQUEST_ID,
            IDEMPOTENCY_KEY,
        ])
        .expose_headers([
            request_id::X_REQUEST_ID,
            header::RETRY_AFTER,
            header::LOCATION,
            IDEMPOTENT_REPLAYED,
        ])
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
        Self::build_on(settings, None).await
    }

    /// The same application asking `scheduling` instead of Calendly (behind the same cache,
    /// use cases and routes): another provider, or one in memory for tests.
    pub async fn build_with_scheduling(
        settings: Settings,
        scheduling: Arc<dyn SchedulingProvider>,
    ) -> Result<Self, StartupError> {
        Self::build_on(settings, Some(scheduling)).await
    }

    async fn build_on(
        settings: Settings,
        scheduling: Option<Arc<dyn SchedulingProvider>>,
    ) -> Result<Self, StartupError> {
        let applied = migrate(&settings).await?;
        if !applied.is_empty() {
            tracing::info!(?applied, "migrations applied");
        }
        let mut shared = Shared::new(&settings)?;
        shared.scheduling = scheduling;
        shared.check_wiring()?;
        shared.start_webhook_checks()?;

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
        let demo = settings
            .demo
            .enabled
            .then(|| web::Data::new(DemoSessions::new(JwtIssuer::new(&settings.auth.jwt_secret))));
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
                .configure(|config| routes::configure(config, demo.as_ref()))
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
