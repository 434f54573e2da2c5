//! Connecting a Calendly account: `PUT`, `GET` and `DELETE /calendly/connection`.

use actix_web::{HttpResponse, web};
use chrono::SecondsFormat;
use domain::{CalendlyConnection, CalendlyToken};
use serde::Serialize;
use utoipa::ToSchema;

use super::json_body::required_string;
use crate::auth::AuthenticatedUser;
use crate::error::{
    ApiError, CALENDLY_BAD_ARGUMENT, CALENDLY_CONFLICT, CALENDLY_NOT_CONNECTED, CALENDLY_NOT_FOUND,
    CALENDLY_REAUTH_REQUIRED, CALENDLY_TOKEN_INVALID, ErrorKind, INVALID_PARAMETER,
    MISSING_PARAMETER, PAYLOAD_TOO_LARGE,
};
use crate::state::AppState;

/// The errors of `PUT /calendly/connection`, beyond those of every authenticated operation
/// that calls Calendly. (Calendly's 401 and 403 to `/users/me` are `calendly_token_invalid`.)
pub const CONNECT_ERRORS: &[ErrorKind] = &[
    INVALID_PARAMETER,
    MISSING_PARAMETER,
    CALENDLY_TOKEN_INVALID,
    PAYLOAD_TOO_LARGE,
    CALENDLY_BAD_ARGUMENT,
    CALENDLY_NOT_FOUND,
    CALENDLY_CONFLICT,
];

/// The errors of `GET /calendly/connection`, beyond those of every authenticated operation.
pub const STATUS_ERRORS: &[ErrorKind] = &[CALENDLY_NOT_CONNECTED, CALENDLY_REAUTH_REQUIRED];

/// A connection as the client sees it: never the token.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Connection)]
pub struct ConnectionBody {
    /// Always `true`.
    pub connected: bool,
    /// The user's Calendly URI.
    #[schema(
        format = "uri",
        example = "https://api.calendly.com/users/AAAAAAAAAAAAAAAA"
    )]
    pub user_uri: String,
    pub name: String,
    pub email: String,
    #[schema(format = "uri")]
    pub scheduling_url: String,
    /// The user's time zone on Calendly, such as `America/New_York`.
    pub timezone: String,
    /// When this connection was made.
    #[schema(format = DateTime)]
    pub connected_at: String,
    /// How the account was connected: `personal_access_token` (or, once OAuth connect is
    /// offered, `oauth`).
    #[schema(example = "personal_access_token")]
    pub method: &'static str,
    /// Whether Calendly tells the gateway of bookings and event type changes: `active`;
    /// `disabled` when Calendly disabled the subscription (its deliveries kept failing) and it
    /// is not yet made again (it is looked at every `webhooks.check_interval_secs`);
    /// `unavailable` when Calendly refused the subscription (a plan without webhooks, a scope
    /// not granted); `off` when the gateway does not subscribe (`webhooks.public_base_url`
    /// unset). While not `active`, answers are reused for their cache TTLs.
    #[schema(example = "active")]
    pub webhooks: &'static str,
    /// The scopes Calendly granted (OAuth's token answer), such as `["users:read",
    /// "event_types:read"]`; `null` when Calendly did not say (personal access tokens).
    #[schema(example = json!(["users:read", "event_types:read", "availability:read"]))]
    pub scopes: Option<Vec<String>>,
}

// Describes the body for the OpenAPI document; `token_from` reads it, telling a missing field
// (422) from a malformed body (400).
/// The Calendly account to connect.
#[derive(ToSchema)]
#[schema(as = ConnectRequest)]
#[expect(dead_code, reason = "describes the body in the OpenAPI document only")]
pub struct ConnectRequest {
    /// A Calendly personal access token: visible ASCII, up to 4096 characters, surrounding
    /// white space ignored. It is checked against Calendly, then stored encrypted.
    #[schema(pattern = r"^\s*[!-~]{1,4096}\s*$")]
    personal_access_token: String,
}

impl From<CalendlyConnection> for ConnectionBody {
    fn from(connection: CalendlyConnection) -> Self {
        let method = connection.credential.method().as_str();
        let user = connection.calendly_user;
        Self {
            connected: true,
            user_uri: user.uri.as_str().to_owned(),
            name: user.name,
            email: user.email,
            scheduling_url: user.scheduling_url,
            timezone: user.timezone,
            connected_at: connection
                .connected_at
                .to_rfc3339_opts(SecondsFormat::Micros, true),
            method,
            webhooks: connection.webhooks.status(),
            scopes: connection.scopes.map(|scopes| scopes.names().to_vec()),
        }
    }
}

const FIELD: &str = "personal_access_token";

/// The token from `{"personal_access_token": "…"}`: a missing field is 422, anything else
/// wrong with the body is 400.
fn token_from(body: &[u8]) -> Result<CalendlyToken, ApiError> {
    CalendlyToken::parse(&required_string(body, FIELD)?)
        .map_err(|e| ApiError::InvalidParameter(format!("{e}.")))
}

/// Connects the user's Calendly account, replacing an earlier connection.
#[utoipa::path(
    put,
    path = "/calendly/connection",
    operation_id = "connect",
    tag = "calendly",
    security(("bearer" = [])),
    request_body(content = ConnectRequest, content_type = "application/json"),
    responses((status = 200, description = "Connected: the token was accepted by Calendly and stored.", body = ConnectionBody))
)]
pub async fn connect(
    state: web::Data<AppState>,
    AuthenticatedUser(user_id): AuthenticatedUser,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let token = token_from(&body)?;
    let connection = state.service.connect(user_id, token).await?;
    Ok(HttpResponse::Ok().json(ConnectionBody::from(connection)))
}

/// The user's Calendly connection.
#[utoipa::path(
    get,
    path = "/calendly/connection",
    operation_id = "connection",
    tag = "calendly",
    security(("bearer" = [])),
    responses((status = 200, description = "The connection.", body = ConnectionBody))
)]
pub async fn status(
    state: web::Data<AppState>,
    AuthenticatedUser(user_id): AuthenticatedUser,
) -> Result<HttpResponse, ApiError> {
    let connection = state.service.connection(&user_id).await?;
    Ok(
        HttpResponse::Ok().json(ConnectionBody::from(std::sync::Arc::unwrap_or_clone(
            connection,
        ))),
    )
}

/// Forgets the user's Calendly token.
#[utoipa::path(
    delete,
    path = "/calendly/connection",
    operation_id = "disconnect",
    tag = "calendly",
    security(("bearer" = [])),
    responses((status = 204, description = "Disconnected, or nothing was connected."))
)]
pub async fn disconnect(
    state: web::Data<AppState>,
    AuthenticatedUser(user_id): AuthenticatedUser,
) -> Result<HttpResponse, ApiError> {
    state.service.disconnect(&user_id).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_errors_are_told_apart() {
        assert!(matches!(token_from(b""), Err(ApiError::MissingField(_))));
        assert!(matches!(token_from(b"{}"), Err(ApiError::MissingField(_))));
        assert!(matches!(
            token_from(br#"{"personal_access_token": null}"#),
            Err(ApiError::MissingField(_))
        ));
        assert!(matches!(
            token_from(b"{not json"),
            Err(ApiError::InvalidParameter(_))
        ));
        assert!(matches!(
            token_from(b"[]"),
            Err(ApiError::InvalidParameter(_))
        ));
        assert!(matches!(
            token_from(br#"{"personal_access_token": 12}"#),
            Err(ApiError::InvalidParameter(_))
        ));
        assert!(matches!(
            token_from(br#"{"personal_access_token": "  "}"#),
            Err(ApiError::InvalidParameter(_))
        ));
        let token =
            token_from(br#"{"personal_access_token": " abc ", "other": 1}"#).expect("valid");
        assert_eq!(token.expose(), "abc");
    }
}
