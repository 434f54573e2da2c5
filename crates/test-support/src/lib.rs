//! What the test suites share: a throwaway PostgreSQL database or SQLite file per test, a Redis
//! server of a test's own (with TLS when asked), a certificate authority of a test's own,
//! Calendly's documented example bodies, and a scheduling provider in memory.

pub mod calendly;
mod cluster;
mod database;
mod redis;
mod scheduling;
mod sqlite;
mod tls;

pub use cluster::PgCluster;
pub use database::TestDatabase;
pub use redis::TestRedis;
pub use scheduling::{BASE as IN_MEMORY_BASE, InMemoryScheduling};
pub use sqlite::TestSqliteFile;
pub use tls::{ServerCertificate, TestCa};
