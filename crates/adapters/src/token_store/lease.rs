//! A connection locked for renewing its credential: a database transaction kept open on one
//! pooled connection (PostgreSQL: the row locked `FOR UPDATE`; SQLite: `BEGIN IMMEDIATE`, the
//! database's write lock) until the lease is committed. A lease dropped without committing
//! closes its connection, which ends the transaction and releases the lock.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use deadpool::managed::Manager;
use diesel_async::pooled_connection::deadpool::Object;
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, PoolError as ConnectError, PoolableConnection,
};
use domain::CalendlyConnection;

use crate::crypto::TokenCipher;

pub struct Lease<C: PoolableConnection + 'static>
where
    AsyncDieselConnectionManager<C>: Manager<Type = C, Error = ConnectError>,
{
    /// The connection the transaction is open on; `None` once committed.
    pub(crate) db: Option<Object<C>>,
    pub(crate) connection: CalendlyConnection,
    pub(crate) cipher: Arc<TokenCipher>,
    pub(crate) query_timeout: Duration,
}

impl<C: PoolableConnection + 'static> fmt::Debug for Lease<C>
where
    AsyncDieselConnectionManager<C>: Manager<Type = C, Error = ConnectError>,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lease")
            .field("user_id", &self.connection.user_id)
            .finish_non_exhaustive()
    }
}

impl<C: PoolableConnection + 'static> Drop for Lease<C>
where
    AsyncDieselConnectionManager<C>: Manager<Type = C, Error = ConnectError>,
{
    fn drop(&mut self) {
        if let Some(db) = self.db.take() {
            // Not committed: closing the connection rolls the transaction back.
            drop(Object::take(db));
        }
    }
}
