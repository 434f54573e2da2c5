//! The OAuth application the stand-in knows: its codes and tokens.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use actix_web::HttpRequest;
use actix_web::HttpResponse;
use actix_web::http::header;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rand::Rng as _;
use serde_json::json;

use crate::respond::API;

/// How long an authorization code may be exchanged, as Calendly: 10 minutes.
pub(crate) const CODE_LIFETIME: Duration = Duration::from_secs(600);

/// The OAuth application the stand-in knows, and its tokens.
#[derive(Debug)]
pub struct OAuth {
    pub client_id: String,
    pub client_secret: String,
    pub access_token_ttl: Duration,
    pub deny: bool,
    pub(crate) grants: Mutex<Grants>,
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
pub(crate) type Granted = Option<Vec<String>>;

#[derive(Debug)]
pub(crate) struct Code {
    pub(crate) user: String,
    pub(crate) scopes: Granted,
    pub(crate) redirect_uri: String,
    pub(crate) code_challenge: String,
    pub(crate) issued: Instant,
}

#[derive(Debug, Default)]
pub(crate) struct Grants {
    pub(crate) codes: HashMap<String, Code>,
    /// Refresh token → the user and the grant's scopes; removed once used or revoked.
    pub(crate) refresh_tokens: HashMap<String, (String, Granted)>,
    /// Access token → the user, when it expires, and the grant's scopes.
    pub(crate) access_tokens: HashMap<String, (String, Instant, Granted)>,
}

pub(crate) fn random_token(prefix: &str) -> String {
    let bytes: [u8; 24] = rand::rng().random();
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

impl OAuth {
    /// 400 `invalid_grant`, counted.
    pub(crate) fn invalid_grant(&self, description: &str) -> HttpResponse {
        self.calls.invalid_grant.fetch_add(1, Ordering::Relaxed);
        oauth_error(400, "invalid_grant", description)
    }
}

/// An OAuth error body (`{"error", "error_description"}`) with `status`.
pub(crate) fn oauth_error(status: u16, error: &str, description: &str) -> HttpResponse {
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

    pub(crate) fn grants(&self) -> std::sync::MutexGuard<'_, Grants> {
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
    pub(crate) fn issue(&self, user: &str, scopes: Granted) -> HttpResponse {
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
    pub(crate) fn client_authenticated(&self, request: &HttpRequest) -> bool {
        let expected = STANDARD.encode(format!("{}:{}", self.client_id, self.client_secret));
        request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Basic "))
            .is_some_and(|given| given == expected)
    }
}
