//! Every kind of error the API answers with: status, code and meaning, each once.

use actix_web::http::StatusCode;

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
    "Calendly does not accept the token (or, on the OAuth callback, the code)",
);
pub const CALENDLY_REAUTH_REQUIRED: ErrorKind = kind(
    StatusCode::FAILED_DEPENDENCY,
    "calendly_reauth_required",
    "the stored credential can no longer be used (Calendly refuses it, or it no longer decrypts); connect again",
);
pub const OAUTH_NOT_CONFIGURED: ErrorKind = kind(
    StatusCode::NOT_FOUND,
    "oauth_not_configured",
    "OAuth is off: `calendly.oauth.client_id` is not set",
);
pub const INVALID_STATE: ErrorKind = kind(
    StatusCode::BAD_REQUEST,
    "invalid_state",
    "the callback's `state` is missing, unknown, expired (10 minutes) or already used",
);
pub const ACCESS_DENIED: ErrorKind = kind(
    StatusCode::FORBIDDEN,
    "access_denied",
    "the user declined at Calendly (`error=access_denied`)",
);
pub const OAUTH_USER_MISMATCH: ErrorKind = kind(
    StatusCode::FORBIDDEN,
    "oauth_user_mismatch",
    "the OAuth `state` was started by another user (it is spent, and nothing is stored)",
);
pub const CALENDLY_SCOPE_MISSING: ErrorKind = kind(
    StatusCode::FAILED_DEPENDENCY,
    "calendly_scope_missing",
    "the Calendly connection was not granted a scope this needs (the detail names it): known from the scopes granted, without a call, or from Calendly's 403; connect again granting it",
);
pub const INVALID_SIGNATURE: ErrorKind = kind(
    StatusCode::UNAUTHORIZED,
    "invalid_signature",
    "`Calendly-Webhook-Signature` is missing, malformed, older than `webhooks.tolerance_secs` or not the hook's HMAC of the body",
);
pub const HOOK_NOT_FOUND: ErrorKind = kind(
    StatusCode::GONE,
    "gone",
    "no connection has a webhook subscription with this id (Calendly deletes a subscription answered 410)",
);
pub const EVENT_TYPE_INACTIVE: ErrorKind = kind(
    StatusCode::CONFLICT,
    "event_type_inactive",
    "the event type to book is not active",
);
pub const SLOT_UNAVAILABLE: ErrorKind = kind(
    StatusCode::CONFLICT,
    "slot_unavailable",
    "the time is not among the event type's available times, is being booked by another request, or Calendly refuses it as taken",
);
pub const BOOKING_NOT_FOUND: ErrorKind = kind(
    StatusCode::NOT_FOUND,
    "booking_not_found",
    "no booking of the user has this id (another user's included)",
);
pub const BOOKING_ALREADY_CANCELED: ErrorKind = kind(
    StatusCode::CONFLICT,
    "booking_already_canceled",
    "the booking is canceled already",
);
pub const IDEMPOTENCY_KEY_REUSED: ErrorKind = kind(
    StatusCode::UNPROCESSABLE_ENTITY,
    "idempotency_key_reused",
    "the `Idempotency-Key` was used within 24 hours with another body",
);
pub const REQUEST_IN_PROGRESS: ErrorKind = kind(
    StatusCode::CONFLICT,
    "request_in_progress",
    "a request with the same `Idempotency-Key` is still running; retry shortly with the same key",
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
pub(super) const BAD_REQUEST: ErrorKind = kind(
    StatusCode::BAD_REQUEST,
    "bad_request",
    "the request is not understood",
);
