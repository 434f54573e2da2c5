//! Calendly's OAuth 2.0 server, as documented: `GET /oauth/authorize` (approves at once, or
//! denies with `--deny-authorization`), `POST /oauth/token` (authorization code with PKCE S256,
//! refresh tokens that work once), `POST /oauth/revoke`; access tokens that expire after
//! `--access-token-ttl-secs`. `DELETE /oauth/refresh_tokens` revokes every refresh token, as a
//! user removing the app at Calendly would.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rand::Rng as _;
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest as _, Sha256};

use crate::{API, StandIn};

/// How long an authorization code may be exchanged, as Calendly: 10 minutes.
const CODE_LIFETIME: Duration = Duration::from_secs(600);

/// The OAuth application the stand-in knows, and its tokens.
#[derive(Debug)]
pub struct OAuth {
    pub client_id: String,
    pub client_secret: String,
    pub access_token_ttl: Duration,
    pub deny: bool,
    grants: Mutex<Grants>,
    pub calls: OAuthCounters,
}

#[derive(Debug, Default)]
pub struct OAuthCounters {
    pub authorize: AtomicU64,
    pub authorization_code: AtomicU64,
    pub refresh_token: AtomicU64,
    pub revoke: AtomicU64,
    /// Token requests refused with `invalid_grant`.
    pub invalid_grant: AtomicU64,
}

/// The scopes of a grant, as the authorization asked for them; `None`: none asked, so the
/// token answer says `default` and every scope is granted (as before Calendly's scopes).
type Granted = Option<Vec<String>>;

#[derive(Debug)]
struct Code {
    user: String,
    scopes: Granted,
    redirect_uri: String,
    code_challenge: String,
    issued: Instant,
}

#[derive(Debug, Default)]
struct Grants {
    codes: HashMap<String, Code>,
    /// Refresh token → the user and the grant's scopes; removed once used or revoked.
    refresh_tokens: HashMap<String, (String, Granted)>,
    /// Access token → the user, when it expires, and the grant's scopes.
    access_tokens: HashMap<String, (String, Instant, Granted)>,
}

fn random_token(prefix: &str) -> String {
    let bytes: [u8; 24] = rand::rng().random();
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

impl OAuth {
    /// 400 `invalid_grant`, counted.
    fn invalid_grant(&self, description: &str) -> HttpResponse {
        self.calls.invalid_grant.fetch_add(1, Ordering::Relaxed);
        oauth_error(400, "invalid_grant", description)
    }
}

/// An OAuth error body (`{"error", "error_description"}`) with `status`.
fn oauth_error(status: u16, error: &str, description: &str) -> HttpResponse {
    let status = actix_web::http::StatusCode::from_u16(status)
        .unwrap_or(actix_web::http::StatusCode::BAD_REQUEST);
    HttpResponse::build(status).json(json!({ "error": error, "error_description": description }))
}

impl OAuth {
    pub fn new(client_id: String, client_secret: String, ttl: Duration, deny: bool) -> Self {
        Self {
            client_id,
            client_secret,
            access_token_ttl: ttl,
            deny,
            grants: Mutex::new(Grants::default()),
            calls: OAuthCounters::default(),
        }
    }

    fn grants(&self) -> std::sync::MutexGuard<'_, Grants> {
        self.grants.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The user an access token of this server stands for, with its grant's scopes: `None`
    /// when it is not one, `Some(Err)` when it is one no longer valid (expired or revoked).
    pub fn user_of(&self, token: &str) -> Option<Result<(String, Granted), ()>> {
        if !token.starts_with("oauth-at-") {
            return None;
        }
        Some(match self.grants().access_tokens.get(token) {
            Some((user, expires, scopes)) if Instant::now() < *expires => {
                Ok((user.clone(), scopes.clone()))
            }
            _ => Err(()),
        })
    }

    /// A new access and refresh token for `user` with `scopes`, as the token endpoint answers
    /// them.
    fn issue(&self, user: &str, scopes: Granted) -> HttpResponse {
        let access = random_token("oauth-at-");
        let refresh = random_token("oauth-rt-");
        let scope = scopes
            .as_ref()
            .map_or_else(|| "default".to_owned(), |s| s.join(" "));
        let mut grants = self.grants();
        grants.access_tokens.insert(
            access.clone(),
            (
                user.to_owned(),
                Instant::now() + self.access_token_ttl,
                scopes.clone(),
            ),
        );
        grants
            .refresh_tokens
            .insert(refresh.clone(), (user.to_owned(), scopes));
        HttpResponse::Ok().json(json!({
            "token_type": "Bearer",
            "access_token": access,
            "refresh_token": refresh,
            "scope": scope,
            "created_at": chrono::Utc::now().timestamp(),
            "expires_in": self.access_token_ttl.as_secs(),
            "owner": format!("{API}/users/{user}"),
            "organization": format!("{API}/organizations/{user}"),
        }))
    }

    /// Whether the request carries this application's credentials, as HTTP Basic.
    fn client_authenticated(&self, request: &HttpRequest) -> bool {
        let expected = STANDARD.encode(format!("{}:{}", self.client_id, self.client_secret));
        request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Basic "))
            .is_some_and(|given| given == expected)
    }
}

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
