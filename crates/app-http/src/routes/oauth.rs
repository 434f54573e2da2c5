//! Connecting with Calendly's OAuth server: `POST /calendly/oauth/start` (where to send the
//! browser), `POST /calendly/oauth/complete` (the page Calendly sent the browser back to hands
//! over the code, with the bearer of the user who started) and `GET /calendly/oauth/callback`
//! (for deployments whose registered redirect URI is the gateway: it passes Calendly's answer
//! on to the web application's page, storing nothing).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use domain::{AuthorizationCode, OAuthCallback, OAuthStateToken};
use serde::Serialize;
use utoipa::ToSchema;

use super::connection::ConnectionBody;
use super::json_body::{object_from, string_field};
use crate::auth::AuthenticatedUser;
use crate::error::{
    ACCESS_DENIED, ApiError, CALENDLY_TOKEN_INVALID, ErrorKind, INVALID_PARAMETER, INVALID_STATE,
    MISSING_PARAMETER, OAUTH_NOT_CONFIGURED, OAUTH_USER_MISMATCH, PAYLOAD_TOO_LARGE, URI_TOO_LONG,
};
use crate::state::AppState;

/// The errors of `POST /calendly/oauth/start`, beyond those of every authenticated operation.
pub const START_ERRORS: &[ErrorKind] = &[OAUTH_NOT_CONFIGURED];

/// The errors of `POST /calendly/oauth/complete`, beyond those of every authenticated
/// operation that calls Calendly.
pub const COMPLETE_ERRORS: &[ErrorKind] = &[
    OAUTH_NOT_CONFIGURED,
    INVALID_STATE,
    OAUTH_USER_MISMATCH,
    ACCESS_DENIED,
    CALENDLY_TOKEN_INVALID,
    INVALID_PARAMETER,
    MISSING_PARAMETER,
    PAYLOAD_TOO_LARGE,
];

/// The errors of `GET /calendly/oauth/callback`.
pub const CALLBACK_ERRORS: &[ErrorKind] = &[OAUTH_NOT_CONFIGURED, URI_TOO_LONG];

/// Where to send the browser to connect.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = OAuthStart)]
pub struct StartBody {
    /// Calendly's authorization page for this start: `client_id`, `response_type=code`,
    /// `redirect_uri`, `code_challenge`, `code_challenge_method=S256` and `state`. The state
    /// works once, for this user, for 10 minutes.
    #[schema(
        format = "uri",
        example = "https://auth.calendly.com/oauth/authorize?client_id=…&response_type=code&redirect_uri=…&code_challenge=…&code_challenge_method=S256&state=…"
    )]
    pub authorize_url: String,
}

/// Starts connecting the user's Calendly account with OAuth.
#[utoipa::path(
    post,
    path = "/calendly/oauth/start",
    operation_id = "oauth_start",
    tag = "calendly",
    security(("bearer" = [])),
    responses((status = 200, description = "Send the browser to `authorize_url`.", body = StartBody))
)]
pub async fn start(
    state: web::Data<AppState>,
    AuthenticatedUser(user_id): AuthenticatedUser,
) -> Result<HttpResponse, ApiError> {
    let authorize_url = state.service.start_oauth(user_id).await?;
    Ok(no_store(HttpResponse::Ok()).json(StartBody { authorize_url }))
}

/// The one value of `name` in `pairs`; none when it is missing, repeated or not `parse`able.
fn single<T>(
    pairs: &[(String, String)],
    name: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> Option<T> {
    let mut values = pairs.iter().filter(|(key, _)| key == name);
    match (values.next(), values.next()) {
        (Some((_, value)), None) => parse(value),
        _ => None,
    }
}

/// An OAuth `error` as Calendly sends it: a short word of visible ASCII.
fn oauth_error(value: &str) -> Option<String> {
    (value.len() <= 64 && value.bytes().all(|b| b.is_ascii_graphic())).then(|| value.to_owned())
}

/// What the browser brought back, from `{"code", "state"}` or `{"error", "state"}`: a missing
/// `state` (or both `code` and `error` missing) is 422, anything else wrong with the body 400.
fn completion_from(body: &[u8]) -> Result<OAuthCallback, ApiError> {
    let object = object_from(body)?;
    let field = |name: &'static str| string_field(&object, name);
    let malformed = |name: &str| {
        ApiError::InvalidParameter(format!(
            "{name} must be 1 to 4096 visible ASCII characters, as Calendly sent it."
        ))
    };
    let state = field("state")?.ok_or(ApiError::MissingField("state"))?;
    let (code, error) = (field("code")?, field("error")?);
    if code.is_none() && error.is_none() {
        return Err(ApiError::MissingField("code"));
    }
    Ok(OAuthCallback {
        state: Some(OAuthStateToken::parse(state).map_err(|_| malformed("state"))?),
        code: code
            .map(|code| AuthorizationCode::parse(code).map_err(|_| malformed("code")))
            .transpose()?,
        error: error
            .map(|error| oauth_error(error).ok_or_else(|| malformed("error")))
            .transpose()?,
    })
}

// Describes the body for the OpenAPI document; `completion_from` reads it.
/// What Calendly sent the browser back with.
#[derive(ToSchema)]
#[schema(as = OAuthCompleteRequest)]
#[expect(dead_code, reason = "describes the body in the OpenAPI document only")]
pub struct CompleteRequest {
    /// Calendly's `code` (absent when Calendly sent an `error`).
    code: Option<String>,
    /// Calendly's `state`, as it came back: the start's, made by this bearer's user.
    state: String,
    /// Calendly's `error`, such as `access_denied` when the user declined.
    error: Option<String>,
}

/// Completes connecting the user's Calendly account with OAuth.
///
/// With what Calendly sent the browser back with. Only the user who started may complete: a
/// start is bound to its user.
#[utoipa::path(
    post,
    path = "/calendly/oauth/complete",
    operation_id = "oauth_complete",
    tag = "calendly",
    security(("bearer" = [])),
    request_body(content = CompleteRequest, content_type = "application/json"),
    responses((status = 200, description = "Connected: the code was exchanged and the connection stored, replacing an earlier one.", body = ConnectionBody))
)]
pub async fn complete(
    state: web::Data<AppState>,
    AuthenticatedUser(user_id): AuthenticatedUser,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let callback = completion_from(&body)?;
    let connection = state.service.finish_oauth(&user_id, callback).await?;
    Ok(no_store(HttpResponse::Ok()).json(ConnectionBody::from(connection)))
}

/// Calendly's parameters that the callback passes on: `code`, `state`, `error` and
/// `error_description`, each once and as Calendly sends them.
fn passed_on(query: &str) -> String {
    let pairs = web::Query::<Vec<(String, String)>>::from_query(query)
        .map(web::Query::into_inner)
        .unwrap_or_default();
    let visible = |v: &str| {
        (!v.is_empty() && v.len() <= 4096 && v.bytes().all(|b| b.is_ascii_graphic() || b == b' '))
            .then(|| v.to_owned())
    };
    let mut url = url::form_urlencoded::Serializer::new(String::new());
    for name in ["code", "state", "error", "error_description"] {
        if let Some(value) = single(&pairs, name, visible) {
            url.append_pair(name, &value);
        }
    }
    url.finish()
}

/// Passes Calendly's OAuth answer on to the web application's page.
///
/// Where Calendly sends the browser back when the registered redirect URI is the gateway's:
/// stores nothing, and sends the browser on to `calendly.oauth.return_url` with Calendly's
/// parameters, where the web application's page calls `POST /calendly/oauth/complete`.
#[utoipa::path(
    get,
    path = "/calendly/oauth/callback",
    operation_id = "oauth_callback",
    tag = "calendly",
    params(
        ("code" = Option<String>, Query, description = "The authorization code Calendly sent."),
        ("state" = Option<String>, Query, description = "The state of the start, as Calendly sent it back."),
        ("error" = Option<String>, Query, description = "Calendly's error, such as `access_denied` when the user declined."),
    ),
    responses(
        (status = 302, description = "To `calendly.oauth.return_url` with `code`, `state`, `error` and `error_description` as Calendly sent them.",
            headers(("Location" = String, description = "The web application's page."))),
    )
)]
pub async fn callback(
    request: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let Some(url) = &state.return_url else {
        return Err(domain::GatewayError::OAuthNotConfigured.into());
    };
    Ok(redirect(url, &passed_on(request.query_string())))
}

/// `302` to `url` with `query` added to its own.
fn redirect(url: &str, query: &str) -> HttpResponse {
    let separator = match url.split_once('?') {
        None => "?",
        Some((_, "")) => "",
        Some(_) => "&",
    };
    no_store(HttpResponse::Found())
        .insert_header((header::LOCATION, format!("{url}{separator}{query}")))
        .finish()
}

/// An answer no cache keeps, and whose URL (with its code and state) no page is told.
fn no_store(mut response: actix_web::HttpResponseBuilder) -> actix_web::HttpResponseBuilder {
    response
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header(("Referrer-Policy", "no-referrer"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_callback_passes_on_calendlys_parameters_each_once() {
        assert_eq!(passed_on("code=abc&state=xyz"), "code=abc&state=xyz");
        assert_eq!(
            passed_on("state=xyz&error=access_denied&error_description=The+user+declined&other=1"),
            "state=xyz&error=access_denied&error_description=The+user+declined"
        );
        assert_eq!(passed_on("code=abc&state=x&state=y"), "code=abc");
        assert_eq!(passed_on("state=%0A&code=%00"), "");
        assert_eq!(passed_on(&format!("state={}", "s".repeat(4097))), "");
    }

    #[test]
    fn a_completion_needs_a_state_and_a_code_or_an_error() {
        let read = |body: &str| completion_from(body.as_bytes());
        let done = read(r#"{"code": "abc", "state": "xyz"}"#).expect("a completion");
        assert_eq!(done.code.map(|c| c.expose().to_owned()), Some("abc".into()));
        assert_eq!(
            done.state.map(|s| s.expose().to_owned()),
            Some("xyz".into())
        );
        let declined = read(r#"{"error": "access_denied", "state": "xyz"}"#).expect("a completion");
        assert_eq!(declined.error.as_deref(), Some("access_denied"));
        assert!(matches!(
            read(r#"{"code": "abc"}"#),
            Err(ApiError::MissingField("state"))
        ));
        assert!(matches!(
            read(r#"{"state": "xyz"}"#),
            Err(ApiError::MissingField("code"))
        ));
        assert!(matches!(
            read(r#"{"code": 1, "state": "xyz"}"#),
            Err(ApiError::InvalidParameter(_))
        ));
        assert!(matches!(
            read(r#"{"code": "a b", "state": "xyz"}"#),
            Err(ApiError::InvalidParameter(_))
        ));
        assert!(matches!(read("[]"), Err(ApiError::InvalidParameter(_))));
        assert!(matches!(read("{"), Err(ApiError::InvalidParameter(_))));
    }

    #[test]
    fn the_outcome_is_added_to_the_return_urls_own_query() {
        let location = |response: HttpResponse| {
            response
                .headers()
                .get(header::LOCATION)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned)
                .unwrap_or_default()
        };
        assert_eq!(
            location(redirect("https://app.example/cal", "calendly=connected")),
            "https://app.example/cal?calendly=connected"
        );
        assert_eq!(
            location(redirect(
                "https://app.example/cal?tab=2",
                "calendly=connected"
            )),
            "https://app.example/cal?tab=2&calendly=connected"
        );
        assert_eq!(
            location(redirect("https://app.example/cal?", "calendly=connected")),
            "https://app.example/cal?calendly=connected"
        );
    }
}
