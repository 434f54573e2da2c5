//! SQLite, the embedded default: a file, a pool over it, its migrations, and the
//! [`TokenRepository`](domain::TokenRepository). SQLite is compiled in; nothing is installed.

mod migrations;
mod pool;
mod repository;
mod schema;

pub use migrations::run_migrations;
pub use pool::{SqlitePool, SqlitePoolSettings, build_pool, sqlite_path};
pub use repository::SqliteTokenRepository;
