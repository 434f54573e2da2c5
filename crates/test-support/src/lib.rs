//! What the test suites share: a throwaway PostgreSQL database or SQLite file per test, and
//! Calendly's documented example bodies.

pub mod calendly;
mod database;
mod sqlite;

pub use database::TestDatabase;
pub use sqlite::TestSqliteFile;
