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

/// One kind of error: its status, its code, and what it means (its description in the OpenAPI
/// document).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorKind {
    pub status: StatusCode,
    pub code: &'static str,
    pub meaning: &'static str,
}

const fn kind(status: StatusCode, code: &'static str, meaning: &'static str) -> ErrorKind {
    ErrorKind {
        status,
        code,
        meaning,
    }
}

pub const NOT_AUTHENTICATED: ErrorKind = kind(
    StatusCode::UNAUTHORIZED,
    "not_authenticated",
    "no bearer token",
);
pub const INVALID_CREDENTIALS: ErrorKind = kind(
    StatusCode::UNAUTHORIZED,
    "invalid_credentials",
    "a bearer token that is malformed or badly signed",
);
pub const TOKEN_EXPIRED: ErrorKind = kind(
    StatusCode::UNAUTHORIZED,
    "token_expired",
    "a bearer token that has expired",
);
pub const MISSING_PARAMETER: ErrorKind = kind(
    StatusCode::UNPROCESSABLE_ENTITY,
    "missing_parameter",
    "a required query parameter or body field is missing",
);
pub const INVALID_PARAMETER: ErrorKind = kind(
    StatusCode::BAD_REQUEST,
    "invalid_parameter",
    "a parameter or the body is not understood (an unparseable time or URI, `end_time` not after `start_time`, a range over `limits.max_range_days`, a body that is not a JSON object, a token that is not visible ASCII)",
);
pub const CALENDLY_NOT_CONNECTED: ErrorKind = kind(
    StatusCode::NOT_FOUND,
    "calendly_not_connected",
    "no Calendly connection for the user",
);
pub const NO_EVENT_TYPES: ErrorKind = kind(
    StatusCode::NOT_FOUND,
    "no_event_types",
    "the user has no event types",
);
pub const EVENT_TYPE_NOT_FOUND: ErrorKind = kind(
    StatusCode::NOT_FOUND,
    "event_type_not_found",
    "`event_type` is not one of the user's",
);
pub const CALENDLY_TOKEN_INVALID: ErrorKind = kind(
    StatusCode::UNPROCESSABLE_ENTITY,
    "calendly_token_invalid",
    "Calendly does not accept the token",
);
pub const CALENDLY_REAUTH_REQUIRED: ErrorKind = kind(
    StatusCode::FAILED_DEPENDENCY,
    "calendly_reauth_required",
    "the stored credential can no longer be used (Calendly refuses it, or it no longer decrypts); connect again",
);
pub const CALENDLY_BAD_ARGUMENT: ErrorKind = kind(
    StatusCode::BAD_REQUEST,
    "calendly_error",
    "Calendly refused the call; the detail is Calendly's JSON",
);
pub const CALENDLY_FORBIDDEN: ErrorKind = kind(
    StatusCode::FORBIDDEN,
    "calendly_error",
    "Calendly refused the call; the detail is Calendly's JSON",
);
pub const CALENDLY_NOT_FOUND: ErrorKind = kind(
    StatusCode::NOT_FOUND,
    "calendly_error",
    "Calendly refused the call; the detail is Calendly's JSON",
);
pub const CALENDLY_CONFLICT: ErrorKind = kind(
    StatusCode::CONFLICT,
    "calendly_error",
    "Calendly refused the call; the detail is Calendly's JSON",
);
pub const CALENDLY_RATE_LIMITED: ErrorKind = kind(
    StatusCode::TOO_MANY_REQUESTS,
    "calendly_rate_limited",
    "Calendly's rate limit was reached; `Retry-After` says when to retry",
);
pub const CALENDLY_UNAVAILABLE: ErrorKind = kind(
    StatusCode::BAD_GATEWAY,
    "calendly_unavailable",
    "Calendly failed or answered in a way the gateway cannot use",
);
pub const CALENDLY_TIMEOUT: ErrorKind = kind(
    StatusCode::GATEWAY_TIMEOUT,
    "calendly_timeout",
    "Calendly did not answer within `calendly.timeout_ms`",
);
pub const DATABASE_UNAVAILABLE: ErrorKind = kind(
    StatusCode::SERVICE_UNAVAILABLE,
    "database_unavailable",
    "the database is unavailable; retry shortly",
);
pub const INTERNAL_ERROR: ErrorKind = kind(
    StatusCode::INTERNAL_SERVER_ERROR,
    "internal_error",
    "an unexpected failure",
);
pub const NOT_FOUND: ErrorKind = kind(StatusCode::NOT_FOUND, "not_found", "no such path");
pub const METHOD_NOT_ALLOWED: ErrorKind = kind(
    StatusCode::METHOD_NOT_ALLOWED,
    "method_not_allowed",
    "the path does not take this method; `Allow` lists those it takes",
);
pub const PAYLOAD_TOO_LARGE: ErrorKind = kind(
    StatusCode::PAYLOAD_TOO_LARGE,
    "payload_too_large",
    "the body is over 16 KiB",
);
pub const UNSUPPORTED_MEDIA_TYPE: ErrorKind = kind(
    StatusCode::UNSUPPORTED_MEDIA_TYPE,
    "unsupported_media_type",
    "the body's media type is not taken",
);
pub const URI_TOO_LONG: ErrorKind = kind(
    StatusCode::URI_TOO_LONG,
    "uri_too_long",
    "the path and query string are over 8 KiB",
);
pub const HEADERS_TOO_LARGE: ErrorKind = kind(
    StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
    "headers_too_large",
    "the request headers are over 16 KiB",
);
const BAD_REQUEST: ErrorKind = kind(
    StatusCode::BAD_REQUEST,
    "bad_request",
    "the request is not understood",
);

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
        GatewayError::TokenRejected { .. } => (
            CALENDLY_TOKEN_INVALID,
            text("Calendly did not accept this personal access token."),
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
        ProviderError::CredentialRejected { details } => {
            (CALENDLY_REAUTH_REQUIRED, details.clone())
        }
        ProviderError::Rejected { reason, details } => {
            let kind = match reason {
                Rejection::BadArgument => CALENDLY_BAD_ARGUMENT,
                Rejection::Forbidden => CALENDLY_FORBIDDEN,
                Rejection::NotFound => CALENDLY_NOT_FOUND,
                Rejection::Conflict => CALENDLY_CONFLICT,
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
                let secs = retry_after.map_or(DEFAULT_RETRY_AFTER_SECS, |d| d.as_secs());
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
mod tests {
    use super::*;
    use domain::EventTypeUri;
    use serde_json::json;

    #[test]
    fn each_error_has_the_contracts_status_and_code() {
        let details = json!({ "title": "T", "message": "M" });
        let cases: Vec<(ApiError, u16, &str)> = vec![
            (
                ApiError::Unauthenticated(AuthError::Missing),
                401,
                "not_authenticated",
            ),
            (
                ApiError::Unauthenticated(AuthError::Expired),
                401,
                "token_expired",
            ),
            (
                ApiError::MissingParameter("start_time"),
                422,
                "missing_parameter",
            ),
            (
                GatewayError::NotConnected.into(),
                404,
                "calendly_not_connected",
            ),
            (
                GatewayError::EventTypeNotFound(EventTypeUri::parse("https://e/1").expect("uri"))
                    .into(),
                404,
                "event_type_not_found",
            ),
            (
                GatewayError::InvalidRange(RangeError::TooLong { max_days: 365 }).into(),
                400,
                "invalid_parameter",
            ),
            (
                GatewayError::Provider(ProviderError::Rejected {
                    reason: Rejection::Conflict,
                    details: details.clone(),
                })
                .into(),
                409,
                "calendly_error",
            ),
            (
                GatewayError::Provider(ProviderError::CredentialRejected { details }).into(),
                424,
                "calendly_reauth_required",
            ),
            (
                GatewayError::Provider(ProviderError::Timeout).into(),
                504,
                "calendly_timeout",
            ),
            (
                GatewayError::Repository(RepositoryError::Unavailable("down".into())).into(),
                503,
                "database_unavailable",
            ),
        ];
        for (error, status, code) in cases {
            let (kind, _) = error.described();
            assert_eq!(
                (kind.status.as_u16(), kind.code),
                (status, code),
                "{error:?}"
            );
            assert_eq!(error.status_code(), kind.status);
        }
    }

    #[test]
    fn the_original_services_wording_is_kept() {
        let (_, detail) = ApiError::from(GatewayError::NotConnected).described();
        assert_eq!(
            detail,
            "No PAT token found. Please connect your Calendly account."
        );
        let (_, detail) = ApiError::Unauthenticated(AuthError::Invalid).described();
        assert_eq!(detail, "Invalid authentication credentials");
    }

    #[test]
    fn framework_statuses_have_their_codes() {
        assert_eq!(
            framework_kind(StatusCode::URI_TOO_LONG).code,
            "uri_too_long"
        );
        assert_eq!(framework_kind(StatusCode::IM_A_TEAPOT).code, "bad_request");
        assert_eq!(
            framework_kind(StatusCode::BAD_GATEWAY).code,
            "internal_error"
        );
    }
}
