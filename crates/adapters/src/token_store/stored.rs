//! A connection's row as Diesel reads it.

use chrono::{DateTime, Utc};

/// One row of `calendly_connections`, whichever the backend. The fields are in the order of
/// the table's columns (each backend's `schema.rs`), which is how Diesel reads a whole row.
#[derive(diesel::Queryable)]
pub(crate) struct StoredConnection {
    pub user_id: String,
    pub token_ciphertext: Vec<u8>,
    pub token_key_id: String,
    pub calendly_user_uri: String,
    pub name: String,
    pub email: String,
    pub scheduling_url: String,
    pub timezone: String,
    pub connected_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// `personal_access_token` or `oauth`.
    pub method: String,
    /// OAuth only: the refresh token, sealed under `token_key_id` for its purpose.
    pub refresh_token_ciphertext: Option<Vec<u8>>,
    /// OAuth only: when the access token (`token_ciphertext`) expires.
    pub access_token_expires_at: Option<DateTime<Utc>>,
    /// OAuth only: when it was issued.
    pub access_token_issued_at: Option<DateTime<Utc>>,
    pub calendly_organization_uri: Option<String>,
    /// `off`, `unavailable` or `active`.
    pub webhook_status: String,
    /// Active webhooks only: the hook id, its signing key (sealed under `token_key_id` for its
    /// purpose) and the subscription's URI at Calendly.
    pub hook_id: Option<String>,
    pub webhook_key_ciphertext: Option<Vec<u8>>,
    pub webhook_subscription_uri: Option<String>,
    pub webhook_signed_by: String,
    pub webhook_disabled: bool,
    pub scopes: Option<String>,
    /// Read with the row, never written by a save and never used: only claiming a check
    /// moves it.
    #[allow(dead_code)]
    pub webhook_check_due_at: Option<DateTime<Utc>>,
}
