//! Adapters: the domain's ports implemented on real things. Each module is one outside
//! thing, and each translates its driver's errors into the port's error contract.

pub mod cache;
pub mod calendly;
pub mod crypto;
pub mod jwt;
pub mod postgres;
pub mod shared_tier;
pub mod sqlite;
pub mod tasks;
mod tls_provider;
mod token_store;

pub use token_store::{DieselTokenRepository, KeyRotation, PoolSetupError};

/// A database pool's figures at one moment: its size, idle connections and waiting requests.
pub use deadpool::Status as PoolStatus;

/// A whole error chain on one line, for logs and error reasons.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
