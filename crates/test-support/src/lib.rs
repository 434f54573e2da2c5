//! What the test suites share: a throwaway PostgreSQL database or SQLite file per test, and
//! Calendly's documented example bodies.

pub mod calendly;
mod cluster;
mod database;
mod sqlite;

pub use cluster::PgCluster;
pub use database::TestDatabase;
pub use sqlite::TestSqliteFile;
