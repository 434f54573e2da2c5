//! What the SQL backends share: the repository type, how a connection becomes a stored row
//! (its token sealed) and back, and the queries, written once for every backend.

mod bookings_queries;
mod checks;
mod lease;
mod oauth_starts;
mod outcome;
mod queries;
mod repository;
mod rows;
mod starts_queries;
mod stored;

pub(crate) use outcome::{Backend, judge};

pub use lease::Lease;

pub(crate) use oauth_starts::{StoredStart, state_hash};

pub(crate) use bookings_queries::{MAX_SEATS_TRIED, diesel_bookings, fingerprint_hash};
pub(crate) use checks::diesel_webhook_checks;
pub(crate) use queries::diesel_token_repository;
pub use repository::{DieselTokenRepository, KeyRotation, PoolSetupError};
pub(crate) use repository::{ROTATION_BATCH, bounded_pool};
pub(crate) use rows::{HookRow, stored_row, stored_webhooks};
pub(crate) use starts_queries::diesel_oauth_starts;
pub(crate) use stored::StoredConnection;
