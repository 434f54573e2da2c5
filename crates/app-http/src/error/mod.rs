//! The one mapping from errors to HTTP: every error body is `{"detail": …, "code": …}`.
//!
//! Each kind of error the API answers with is one [`ErrorKind`] below: its status, its code and
//! what it means. [`ApiError::described`] is the one `match` that picks the kind and words the
//! detail of every error; the OpenAPI document lists each operation's kinds from the same
//! constants (`routes::docs`), so neither can drift from the other.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use domain::{AuthError, GatewayError, ProviderError, RangeError, Rejection, RepositoryError};
use serde::Serialize;
use serde_json::Value;

/// What the client is told when an upstream rate limit gives no reset time: Calendly's
/// limits are per minute.
const DEFAULT_RETRY_AFTER_SECS: u64 = 60;

mod kinds;

pub use kinds::*;

/// An error body as the client sees it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = Error)]
pub struct ErrorBody {
    /// A message, or Calendly's own JSON error (`{"title", "message", "details"}`) when Calendly
    /// refused the call.
    #[schema(value_type = Value)]
    pub detail: Value,
    /// What went wrong, in snake_case, such as `calendly_not_connected`.
    #[schema(example = "calendly_not_connected")]
    pub code: &'static str,
}

/// Everything a request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    Unauthenticated(AuthError),
    #[error("Missing required query parameter: {0}.")]
    MissingParameter(&'static str),
    #[error("Missing required field: {0}.")]
    MissingField(&'static str),
    #[error("{0}")]
    InvalidParameter(String),
    #[error(transparent)]
    Gateway(#[from] GatewayError),
}

fn text(s: &str) -> Value {
    Value::String(s.to_owned())
}

impl ApiError {
    /// The error's code, as the body would carry it.
    pub fn code(&self) -> &'static str {
        self.described().0.code
    }

    /// The kind of this error and the detail the client is told: every error's status, code
    /// and wording, in one place.
    fn described(&self) -> (ErrorKind, Value) {
        match self {
            Self::Unauthenticated(AuthError::Missing) => {
                (NOT_AUTHENTICATED, text("Not authenticated"))
            }
            Self::Unauthenticated(AuthError::Expired) => {
                (TOKEN_EXPIRED, text("Invalid authentication credentials"))
            }
            Self::Unauthenticated(AuthError::Invalid) => (
                INVALID_CREDENTIALS,
                text("Invalid authentication credentials"),
            ),
            Self::MissingParameter(_) | Self::MissingField(_) => {
                (MISSING_PARAMETER, text(&self.to_string()))
            }
            Self::InvalidParameter(message) => (INVALID_PARAMETER, text(message)),
            Self::Gateway(error) => described_gateway(error),
        }
    }
}

fn described_gateway(error: &GatewayError) -> (ErrorKind, Value) {
    match error {
        GatewayError::NotConnected => (
            CALENDLY_NOT_CONNECTED,
            // The original service's wording, which its web client shows.
            text("No PAT token found. Please connect your Calendly account."),
        ),
        GatewayError::NoEventTypes => (
            NO_EVENT_TYPES,
            text("No event types found for this Calendly user."),
        ),
        GatewayError::EventTypeNotFound(uri) => (
            EVENT_TYPE_NOT_FOUND,
            text(&format!(
                "Event type {uri} is not one of this user's event types."
            )),
        ),
        GatewayError::InvalidRange(RangeError::EndNotAfterStart) => (
            INVALID_PARAMETER,
            text("end_time must be after start_time."),
        ),
        GatewayError::InvalidRange(RangeError::TooLong { max_days }) => (
            INVALID_PARAMETER,
            text(&format!(
                "The range from start_time to end_time may be at most {max_days} days."
            )),
        ),
        GatewayError::TooManyEventTypes { max } => (
            INVALID_PARAMETER,
            text(&format!(
                "At most {max} event types may be asked about at once (limits.max_event_types_per_request)."
            )),
        ),
        GatewayError::TokenRejected { .. } => (
            CALENDLY_TOKEN_INVALID,
            text("Calendly did not accept this personal access token."),
        ),
        GatewayError::OAuthNotConfigured => (
            OAUTH_NOT_CONFIGURED,
            text("Connecting with Calendly's OAuth is not configured on this gateway."),
        ),
        GatewayError::InvalidOAuthState => (
            INVALID_STATE,
            text("The OAuth state is unknown, expired or already used. Start connecting again."),
        ),
        GatewayError::OAuthUserMismatch => (
            OAUTH_USER_MISMATCH,
            text(
                "This OAuth start was made by another user: nothing was connected. Start connecting again.",
            ),
        ),
        GatewayError::AuthorizationDenied => (
            ACCESS_DENIED,
            text("The Calendly account was not connected: access was declined at Calendly."),
        ),
        GatewayError::CodeRejected { details } if !details.is_null() => {
            (CALENDLY_TOKEN_INVALID, details.clone())
        }
        GatewayError::CodeRejected { .. } => (
            CALENDLY_TOKEN_INVALID,
            text("Calendly did not accept the authorization code. Start connecting again."),
        ),
        GatewayError::ReauthRequired => (
            CALENDLY_REAUTH_REQUIRED,
            text(
                "Calendly no longer renews this connection. Please connect your Calendly account again.",
            ),
        ),
        GatewayError::HookNotFound => {
            (HOOK_NOT_FOUND, text("No webhook subscription has this id."))
        }
        GatewayError::InvalidSignature(_) => (
            INVALID_SIGNATURE,
            text(
                "The Calendly-Webhook-Signature header is missing, malformed, stale or does not match the body.",
            ),
        ),
        GatewayError::EventTypeInactive(uri) => (
            EVENT_TYPE_INACTIVE,
            text(&format!(
                "Event type {uri} is not active: it cannot be booked."
            )),
        ),
        GatewayError::InvalidBooking(reason) => (INVALID_PARAMETER, text(reason)),
        GatewayError::SlotUnavailable => (
            SLOT_UNAVAILABLE,
            text("This time is not available to book: taken, being booked, or not offered."),
        ),
        GatewayError::BookingNotFound => (
            BOOKING_NOT_FOUND,
            text("No booking of this user has this id."),
        ),
        GatewayError::BookingAlreadyCanceled => (
            BOOKING_ALREADY_CANCELED,
            text("This booking is canceled already."),
        ),
        GatewayError::IdempotencyKeyReused => (
            IDEMPOTENCY_KEY_REUSED,
            text(
                "This Idempotency-Key was used with another body; use a new key for a new booking.",
            ),
        ),
        GatewayError::RequestInProgress => (
            REQUEST_IN_PROGRESS,
            text(
                "A request with this Idempotency-Key is still running; retry shortly with the same key.",
            ),
        ),
        GatewayError::Provider(error) => described_provider(error),
        GatewayError::Repository(RepositoryError::Unavailable(_)) => (
            DATABASE_UNAVAILABLE,
            text("The database is unavailable; retry shortly."),
        ),
        GatewayError::Repository(RepositoryError::Undecryptable) => (
            CALENDLY_REAUTH_REQUIRED,
            text(
                "The stored Calendly credential can no longer be used. Please connect your Calendly account again.",
            ),
        ),
        GatewayError::Repository(RepositoryError::Unexpected(_)) => {
            (INTERNAL_ERROR, text("Internal server error."))
        }
    }
}

fn described_provider(error: &ProviderError) -> (ErrorKind, Value) {
    match error {
        ProviderError::CredentialRejected { details } if !details.is_null() => {
            (CALENDLY_REAUTH_REQUIRED, details.clone())
        }
        ProviderError::CredentialRejected { .. } => (
            CALENDLY_REAUTH_REQUIRED,
            text(
                "Calendly no longer accepts the stored credential. Please connect your Calendly account again.",
            ),
        ),
        ProviderError::Rejected { reason, details } => {
            let kind = match reason {
                Rejection::BadArgument => CALENDLY_BAD_ARGUMENT,
                Rejection::Forbidden => CALENDLY_FORBIDDEN,
                Rejection::NotFound => CALENDLY_NOT_FOUND,
                Rejection::Conflict => CALENDLY_CONFLICT,
                Rejection::TimeUnavailable => SLOT_UNAVAILABLE,
            };
            (kind, details.clone())
        }
        ProviderError::RateLimited { details, .. } if !details.is_null() => {
            (CALENDLY_RATE_LIMITED, details.clone())
        }
        ProviderError::RateLimited { .. } => (
            CALENDLY_RATE_LIMITED,
            text("Calendly's rate limit was reached; retry after the time in Retry-After."),
        ),
        ProviderError::Unavailable { .. } => (
            CALENDLY_UNAVAILABLE,
            text("Calendly is unavailable or answered in a way the gateway cannot use."),
        ),
        ProviderError::Timeout => (CALENDLY_TIMEOUT, text("Calendly did not answer in time.")),
        ProviderError::ScopeMissing { scope, .. } => (
            CALENDLY_SCOPE_MISSING,
            text(&format!(
                "The Calendly connection was not granted the scope {scope}, which this needs. Connect again, granting it."
            )),
        ),
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.described().0.status
    }

    fn error_response(&self) -> HttpResponse {
        let (kind, detail) = self.described();
        let status = kind.status;
        if status.is_server_error() {
            let chain = adapters::error_chain(self);
            if status == StatusCode::INTERNAL_SERVER_ERROR {
                tracing::error!(error = %chain, "request failed unexpectedly");
            } else {
                tracing::warn!(error = %chain, status = status.as_u16(), "upstream failure");
            }
        }
        let mut response = HttpResponse::build(status);
        match self {
            Self::Unauthenticated(_) => {
                response
                    .insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
            }
            Self::Gateway(GatewayError::Provider(ProviderError::RateLimited {
                retry_after,
                ..
            })) => {
                // Whole seconds, rounded up: never earlier than asked.
                let secs = retry_after.map_or(DEFAULT_RETRY_AFTER_SECS, |d| {
                    d.as_secs() + u64::from(d.subsec_nanos() > 0)
                });
                response.insert_header((header::RETRY_AFTER, secs.to_string()));
            }
            _ => {}
        }
        response.json(ErrorBody {
            detail,
            code: kind.code,
        })
    }
}

/// The kind of an error the framework answers with a status alone, before a handler runs.
fn framework_kind(status: StatusCode) -> ErrorKind {
    [
        NOT_FOUND,
        METHOD_NOT_ALLOWED,
        PAYLOAD_TOO_LARGE,
        UNSUPPORTED_MEDIA_TYPE,
        URI_TOO_LONG,
        HEADERS_TOO_LARGE,
    ]
    .into_iter()
    .find(|kind| kind.status == status)
    .unwrap_or(if status.is_server_error() {
        INTERNAL_ERROR
    } else {
        BAD_REQUEST
    })
}

/// A JSON error for a status alone: for what the framework rejects before a handler runs.
pub fn status_error(status: StatusCode, detail: &str) -> HttpResponse {
    HttpResponse::build(status).json(ErrorBody {
        detail: text(detail),
        code: framework_kind(status).code,
    })
}

#[cfg(test)]
mod tests;
