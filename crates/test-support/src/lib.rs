//! What the test suites share: a throwaway PostgreSQL database per test, and Calendly's
//! documented example bodies.

pub mod calendly;
mod database;

pub use database::TestDatabase;
