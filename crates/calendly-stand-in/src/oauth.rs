//! Calendly's OAuth 2.0 server, as documented: `GET /oauth/authorize` (approves at once, or
//! denies with `--deny-authorization`), `POST /oauth/token` (authorization code with PKCE S256,
//! refresh tokens that work once), `POST /oauth/revoke`; access tokens that expire after
//! `--access-token-ttl-secs`. `DELETE /oauth/refresh_tokens` revokes every refresh token, as a
//! user removing the app at Calendly would.

use std::sync::atomic::Ordering;
use std::time::Instant;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest as _, Sha256};

use crate::grants::{CODE_LIFETIME, Code, oauth_error, random_token};
use crate::state::StandIn;

#[derive(Debug, Deserialize)]
pub struct AuthorizeQuery {
    client_id: Option<String>,
    response_type: Option<String>,
    redirect_uri: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    state: Option<String>,
    /// The scopes asked for, space-separated; granted as asked.
    scope: Option<String>,
}

/// `GET /oauth/authorize`: the user approves at once (or, with `--deny-authorization`,
/// declines), and the browser is sent back to `redirect_uri` with a code and the state.
pub async fn authorize(
    query: web::Query<AuthorizeQuery>,
    state: web::Data<StandIn>,
) -> HttpResponse {
    let oauth = &state.oauth;
    oauth.calls.authorize.fetch_add(1, Ordering::Relaxed);
    let query = query.into_inner();
    let (Some(redirect_uri), Some(challenge)) = (query.redirect_uri, query.code_challenge) else {
        return oauth_error(
            400,
            "invalid_request",
            "redirect_uri and code_challenge are required",
        );
    };
    if query.client_id.as_deref() != Some(oauth.client_id.as_str()) {
        return oauth_error(400, "invalid_client", "unknown client_id");
    }
    if query.response_type.as_deref() != Some("code")
        || query.code_challenge_method.as_deref() != Some("S256")
    {
        return oauth_error(
            400,
            "invalid_request",
            "response_type=code and S256 are required",
        );
    }
    let state_param = query.state.unwrap_or_default();
    let location = if oauth.deny {
        let mut url = url_with(&redirect_uri, &[("error", "access_denied")]);
        url = url_with(&url, &[("state", &state_param)]);
        url
    } else {
        // Every approval is a Calendly user of its own, named after the challenge.
        let user = format!("{:016X}", user_for(&challenge));
        let code = random_token("code-");
        oauth.grants().codes.insert(
            code.clone(),
            Code {
                user,
                scopes: query
                    .scope
                    .as_deref()
                    .map(|s| s.split_whitespace().map(str::to_owned).collect()),
                redirect_uri: redirect_uri.clone(),
                code_challenge: challenge,
                issued: Instant::now(),
            },
        );
        url_with(&redirect_uri, &[("code", &code), ("state", &state_param)])
    };
    HttpResponse::Found()
        .insert_header((header::LOCATION, location))
        .finish()
}

/// A stable user id for an approval.
fn user_for(text: &str) -> u64 {
    let digest = Sha256::digest(text.as_bytes());
    u64::from_be_bytes(digest[..8].try_into().unwrap_or_default())
}

/// `url` with `pairs` added to its query string, form-encoded.
fn url_with(url: &str, pairs: &[(&str, &str)]) -> String {
    let encoded: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", form_encoded(v)))
        .collect();
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}{}", encoded.join("&"))
}

fn form_encoded(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[derive(Debug, Deserialize)]
pub struct TokenForm {
    grant_type: Option<String>,
    code: Option<String>,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
    refresh_token: Option<String>,
}

/// `POST /oauth/token`: a code (with its PKCE verifier) or a refresh token for a new pair.
pub async fn token(
    request: HttpRequest,
    form: web::Form<TokenForm>,
    state: web::Data<StandIn>,
) -> HttpResponse {
    let oauth = &state.oauth;
    if !oauth.client_authenticated(&request) {
        return oauth_error(401, "invalid_client", "Client authentication failed");
    }
    let form = form.into_inner();
    match form.grant_type.as_deref() {
        Some("authorization_code") => {
            oauth
                .calls
                .authorization_code
                .fetch_add(1, Ordering::Relaxed);
            let code = form
                .code
                .and_then(|code| oauth.grants().codes.remove(&code));
            let Some(code) = code.filter(|c| c.issued.elapsed() < CODE_LIFETIME) else {
                return oauth.invalid_grant("The authorization code is invalid or expired");
            };
            if form.redirect_uri.as_deref() != Some(code.redirect_uri.as_str()) {
                return oauth.invalid_grant("redirect_uri does not match");
            }
            let verified = form.code_verifier.is_some_and(|verifier| {
                URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) == code.code_challenge
            });
            if !verified {
                return oauth.invalid_grant("code_verifier does not match");
            }
            oauth.issue(&code.user, code.scopes)
        }
        Some("refresh_token") => {
            oauth.calls.refresh_token.fetch_add(1, Ordering::Relaxed);
            let user = form
                .refresh_token
                .and_then(|token| oauth.grants().refresh_tokens.remove(&token));
            match user {
                Some((user, scopes)) => oauth.issue(&user, scopes),
                None => oauth.invalid_grant("The refresh token is invalid or was used"),
            }
        }
        _ => oauth_error(400, "unsupported_grant_type", "grant_type is not supported"),
    }
}

#[derive(Debug, Deserialize)]
pub struct RevokeForm {
    client_id: Option<String>,
    client_secret: Option<String>,
    token: Option<String>,
}

/// `POST /oauth/revoke`: forgets an access or refresh token.
pub async fn revoke(form: web::Form<RevokeForm>, state: web::Data<StandIn>) -> HttpResponse {
    let oauth = &state.oauth;
    oauth.calls.revoke.fetch_add(1, Ordering::Relaxed);
    let form = form.into_inner();
    if form.client_id.as_deref() != Some(oauth.client_id.as_str())
        || form.client_secret.as_deref() != Some(oauth.client_secret.as_str())
    {
        return oauth_error(401, "invalid_client", "Client authentication failed");
    }
    if let Some(token) = form.token {
        let mut grants = oauth.grants();
        grants.access_tokens.remove(&token);
        grants.refresh_tokens.remove(&token);
    }
    HttpResponse::Ok().json(json!({}))
}

/// `DELETE /oauth/refresh_tokens`: every refresh token stops working.
pub async fn revoke_refresh_tokens(state: web::Data<StandIn>) -> HttpResponse {
    state.oauth.grants().refresh_tokens.clear();
    HttpResponse::NoContent().finish()
}
