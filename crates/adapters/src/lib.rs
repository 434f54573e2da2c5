//! Adapters: the domain's ports implemented on real things. Each module is one outside
//! thing, and each translates its driver's errors into the port's error contract.

pub mod cache;
pub mod calendly;
pub mod connections;
pub mod crypto;
mod errors;
mod hashing;
pub mod jwt;
pub mod postgres;
pub mod resilience;
pub mod shared_tier;
pub mod sqlite;
pub mod tasks;
#[cfg(test)]
mod test_described;
mod tls_provider;
mod token_store;

pub use token_store::{DieselTokenRepository, KeyRotation, PoolSetupError};

/// A database pool's figures at one moment: its size, idle connections and waiting requests.
pub use deadpool::Status as PoolStatus;

pub use errors::error_chain;
