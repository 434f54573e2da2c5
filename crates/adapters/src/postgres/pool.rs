//! A bounded pool of PostgreSQL connections.

use std::time::Duration;

use diesel::ConnectionError;
use diesel_async::pooled_connection::deadpool::Pool;
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
};
use diesel_async::{AsyncPgConnection, SimpleAsyncConnection};
use secrecy::{ExposeSecret, SecretString};

use super::tls::PgConnector;
use crate::token_store::{PoolSetupError, bounded_pool};

pub type PgPool = Pool<AsyncPgConnection>;

/// How the pool behaves.
#[derive(Debug, Clone)]
pub struct PgPoolSettings {
    pub url: SecretString,
    pub max_size: usize,
    /// How long a request waits for a free connection, and for a new one to be made, before
    /// the database counts as unavailable.
    pub acquire_timeout: Duration,
    /// How long the gateway waits for a statement (the repository's query deadline). The
    /// server aborts any statement still running a second later, so that one the gateway gave
    /// up on does not run on.
    pub statement_timeout: Duration,
}

/// How much longer than the gateway waits the server lets a statement run.
const SERVER_GRACE: Duration = Duration::from_secs(1);

/// A connection to the database `connector` reaches, over its TLS, within `timeout`.
pub(crate) async fn connect(
    connector: &PgConnector,
    timeout: Duration,
) -> Result<AsyncPgConnection, ConnectionError> {
    let (client, connection) = tokio::time::timeout(timeout, connector.connect())
        .await
        .map_err(|_| ConnectionError::BadConnection("connecting took too long".into()))?
        .map_err(|error| ConnectionError::BadConnection(crate::errors::error_chain(&error)))?;
    AsyncPgConnection::try_from_client_and_connection(client, connection).await
}

/// A pool that makes connections lazily: building it does not touch the database (its URL is
/// read: a malformed one, or TLS settings that cannot be met, is an error).
pub fn build_pool(settings: &PgPoolSettings) -> Result<PgPool, PoolSetupError> {
    let connector = PgConnector::new(settings.url.expose_secret())
        .map_err(|error| PoolSetupError::Tls(error.to_string()))?;
    let statement_timeout_ms = (settings.statement_timeout + SERVER_GRACE).as_millis();
    let connect_timeout = settings.acquire_timeout;
    let mut config = ManagerConfig::default();
    // No test query on every checkout, which would double the round trips of a request; a closed connection (the server went away) is still
    // discarded, since diesel-async checks for that on every checkout.
    config.recycling_method = RecyclingMethod::Fast;
    config.custom_setup = Box::new(move |_url| {
        let connector = connector.clone();
        Box::pin(async move {
            let mut connection = connect(&connector, connect_timeout).await?;
            connection
                .batch_execute(&format!(
                    "SET application_name = 'calendly-gateway'; \
                     SET statement_timeout = {statement_timeout_ms}"
                ))
                .await
                .map_err(ConnectionError::CouldntSetupConfiguration)?;
            Ok(connection)
        })
    });
    let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(
        settings.url.expose_secret(),
        config,
    );
    bounded_pool(manager, settings.max_size, settings.acquire_timeout)
}
