//! The one mapping from errors to HTTP: every error body is `{"detail": …, "code": …}`.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use domain::{AuthError, GatewayError, ProviderError, Rejection, RepositoryError};
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

impl ApiError {
    fn code(&self) -> &'static str {
        match self {
            Self::Unauthenticated(AuthError::Missing) => "not_authenticated",
            Self::Unauthenticated(AuthError::Expired) => "token_expired",
            Self::Unauthenticated(AuthError::Invalid) => "invalid_credentials",
            Self::MissingParameter(_) | Self::MissingField(_) => "missing_parameter",
            Self::InvalidParameter(_) => "invalid_parameter",
            Self::Gateway(error) => match error {
                GatewayError::NotConnected => "calendly_not_connected",
                GatewayError::NoEventTypes => "no_event_types",
                GatewayError::EventTypeNotFound(_) => "event_type_not_found",
                GatewayError::InvalidRange(_) => "invalid_parameter",
                GatewayError::TokenRejected { .. } => "calendly_token_invalid",
                GatewayError::Provider(ProviderError::CredentialRejected { .. })
                | GatewayError::Repository(RepositoryError::Undecryptable) => {
                    "calendly_reauth_required"
                }
                GatewayError::Provider(ProviderError::Rejected { .. }) => "calendly_error",
                GatewayError::Provider(ProviderError::RateLimited { .. }) => {
                    "calendly_rate_limited"
                }
                GatewayError::Provider(ProviderError::Unavailable { .. }) => "calendly_unavailable",
                GatewayError::Provider(ProviderError::Timeout) => "calendly_timeout",
                GatewayError::Repository(RepositoryError::Unavailable(_)) => "database_unavailable",
                GatewayError::Repository(RepositoryError::Unexpected(_)) => "internal_error",
            },
        }
    }

    fn detail(&self) -> Value {
        let text = |s: &str| Value::String(s.to_owned());
        match self {
            Self::Unauthenticated(AuthError::Missing) => text("Not authenticated"),
            Self::Unauthenticated(_) => text("Invalid authentication credentials"),
            Self::Gateway(error) => match error {
                GatewayError::Provider(
                    ProviderError::CredentialRejected { details }
                    | ProviderError::Rejected { details, .. },
                ) => details.clone(),
                GatewayError::Provider(ProviderError::RateLimited { details, .. })
                    if !details.is_null() =>
                {
                    details.clone()
                }
                GatewayError::Provider(ProviderError::RateLimited { .. }) => {
                    text("Calendly's rate limit was reached; retry after the time in Retry-After.")
                }
                GatewayError::Provider(ProviderError::Unavailable { .. }) => {
                    text("Calendly is unavailable or answered in a way the gateway cannot use.")
                }
                GatewayError::Provider(ProviderError::Timeout) => {
                    text("Calendly did not answer in time.")
                }
                GatewayError::Repository(RepositoryError::Unavailable(_)) => {
                    text("The database is unavailable; retry shortly.")
                }
                GatewayError::Repository(RepositoryError::Undecryptable) => text(
                    "The stored Calendly credential can no longer be used. Please connect your Calendly account again.",
                ),
                GatewayError::Repository(RepositoryError::Unexpected(_)) => {
                    text("Internal server error.")
                }
                other => Value::String(other.to_string()),
            },
            other => Value::String(other.to_string()),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            Self::MissingParameter(_) | Self::MissingField(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::InvalidParameter(_) => StatusCode::BAD_REQUEST,
            Self::Gateway(error) => match error {
                GatewayError::NotConnected
                | GatewayError::NoEventTypes
                | GatewayError::EventTypeNotFound(_) => StatusCode::NOT_FOUND,
                GatewayError::InvalidRange(_) => StatusCode::BAD_REQUEST,
                GatewayError::TokenRejected { .. } => StatusCode::UNPROCESSABLE_ENTITY,
                GatewayError::Provider(provider) => match provider {
                    ProviderError::CredentialRejected { .. } => StatusCode::FAILED_DEPENDENCY,
                    ProviderError::Rejected { reason, .. } => match reason {
                        Rejection::BadArgument => StatusCode::BAD_REQUEST,
                        Rejection::Forbidden => StatusCode::FORBIDDEN,
                        Rejection::NotFound => StatusCode::NOT_FOUND,
                        Rejection::Conflict => StatusCode::CONFLICT,
                    },
                    ProviderError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
                    ProviderError::Unavailable { .. } => StatusCode::BAD_GATEWAY,
                    ProviderError::Timeout => StatusCode::GATEWAY_TIMEOUT,
                },
                GatewayError::Repository(repository) => match repository {
                    RepositoryError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
                    RepositoryError::Undecryptable => StatusCode::FAILED_DEPENDENCY,
                    RepositoryError::Unexpected(_) => StatusCode::INTERNAL_SERVER_ERROR,
                },
            },
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
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
            detail: self.detail(),
            code: self.code(),
        })
    }
}

/// A JSON error for a status alone: for what the framework rejects before a handler runs.
pub fn status_error(status: StatusCode, detail: &str) -> HttpResponse {
    let code = match status {
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::URI_TOO_LONG => "uri_too_long",
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => "headers_too_large",
        s if s.is_server_error() => "internal_error",
        _ => "bad_request",
    };
    HttpResponse::build(status).json(ErrorBody {
        detail: Value::String(detail.to_owned()),
        code,
    })
}
