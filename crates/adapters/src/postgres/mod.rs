//! PostgreSQL: the connection pool, the embedded migrations, and the [`TokenRepository`].
//!
//! [`TokenRepository`]: domain::TokenRepository

mod listened;
mod listened_ports;
mod migrations;
mod pool;
mod repository;
mod schema;
mod tls;

pub use listened::{ConnectionCache, HEARTBEAT, LISTENER_NAME};
pub use listened_ports::{ListenedTokens, SharedForgetting};
pub use migrations::{MigrationError, run_migrations};
pub use pool::{PgPool, PgPoolSettings, build_pool};
pub use repository::PgTokenRepository;
pub use tls::{PgConnector, PgTlsError};
