//! Connecting with Calendly's OAuth server: `POST /calendly/oauth/start` (where to send the
//! browser) and `GET /calendly/oauth/callback` (where Calendly sends it back).

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use domain::{AuthorizationCode, OAuthCallback, OAuthStateToken};
use serde::Serialize;
use utoipa::ToSchema;

use super::connection::ConnectionBody;
use crate::auth::AuthenticatedUser;
use crate::error::{
    ACCESS_DENIED, ApiError, CALENDLY_TOKEN_INVALID, DATABASE_UNAVAILABLE, ErrorKind,
    INVALID_STATE, OAUTH_NOT_CONFIGURED, URI_TOO_LONG,
};
use crate::state::AppState;

/// The errors of `POST /calendly/oauth/start`, beyond those of every authenticated operation.
pub const START_ERRORS: &[ErrorKind] = &[OAUTH_NOT_CONFIGURED];

/// The errors of `GET /calendly/oauth/callback` without `calendly.oauth.return_url`, beyond
/// Calendly's and the database's.
pub const CALLBACK_ERRORS: &[ErrorKind] = &[
    OAUTH_NOT_CONFIGURED,
    INVALID_STATE,
    ACCESS_DENIED,
    CALENDLY_TOKEN_INVALID,
    DATABASE_UNAVAILABLE,
    URI_TOO_LONG,
];

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

/// The callback's parameters: `state`, `code` and `error`, each at most once.
fn callback_from(query: &str) -> OAuthCallback {
    let pairs = web::Query::<Vec<(String, String)>>::from_query(query)
        .map(web::Query::into_inner)
        .unwrap_or_default();
    OAuthCallback {
        state: single(&pairs, "state", |v| OAuthStateToken::parse(v).ok()),
        code: single(&pairs, "code", |v| AuthorizationCode::parse(v).ok()),
        error: single(&pairs, "error", |v| {
            (v.len() <= 64 && v.bytes().all(|b| b.is_ascii_graphic())).then(|| v.to_owned())
        }),
    }
}

/// Calendly's redirect after the user approved or declined: finishes connecting, then sends
/// the browser to `calendly.oauth.return_url` with `?calendly=connected` or
/// `?calendly=error&code=…` (without it, answers JSON).
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
        (status = 200, description = "Connected (without `calendly.oauth.return_url`).", body = ConnectionBody),
        (status = 302, description = "With `calendly.oauth.return_url`: to `<return_url>?calendly=connected`, or `<return_url>?calendly=error&code=<code>` with the code of the error (`access_denied`, `invalid_state`, `calendly_token_invalid`, `calendly_unavailable`, `calendly_timeout`, or another of the errors below).",
            headers(("Location" = String, description = "The web application's page."))),
    )
)]
pub async fn callback(request: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let outcome = state
        .service
        .finish_oauth(callback_from(request.query_string()))
        .await
        .map_err(ApiError::from);
    match (&state.return_url, outcome) {
        (None, Ok(connection)) => {
            no_store(HttpResponse::Ok()).json(ConnectionBody::from(connection))
        }
        (None, Err(error)) => {
            let mut response = error.error_response();
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        (Some(url), Ok(_)) => redirect(url, "calendly=connected"),
        (Some(url), Err(error)) => {
            // What the JSON answer would log, then the browser goes back to the application.
            drop(error.error_response());
            tracing::info!(code = error.code(), "OAuth callback failed");
            redirect(url, &format!("calendly=error&code={}", error.code()))
        }
    }
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
    fn a_parameter_counts_once_present_once_and_well_formed() {
        let callback = callback_from("code=abc&state=xyz");
        assert_eq!(
            callback.code.map(|c| c.expose().to_owned()),
            Some("abc".into())
        );
        assert_eq!(
            callback.state.map(|s| s.expose().to_owned()),
            Some("xyz".into())
        );
        assert!(callback.error.is_none());

        let repeated = callback_from("code=abc&state=xyz&state=xyz");
        assert!(repeated.state.is_none());
        assert!(repeated.code.is_some());

        let overlong = callback_from(&format!("state={}", "s".repeat(4097)));
        assert!(overlong.state.is_none());
        assert!(callback_from("state=a%20b").state.is_none());
        assert!(callback_from("state=%0A&code=%00").state.is_none());
        assert!(callback_from("state=%0A&code=%00").code.is_none());
        assert_eq!(
            callback_from("error=access_denied&state=x")
                .error
                .as_deref(),
            Some("access_denied")
        );
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
