//! PostgreSQL: the connection pool, the embedded migrations, and the [`TokenRepository`].
//!
//! [`TokenRepository`]: domain::TokenRepository

mod migrations;
mod pool;
mod repository;
mod schema;
mod tls;

pub use migrations::{MigrationError, run_migrations};
pub use pool::{PgPool, PgPoolSettings, build_pool};
pub use repository::PgTokenRepository;
pub use tls::{PgConnector, PgTlsError};
