//! Calendly's OAuth server as an [`OAuthProvider`]: `POST /oauth/token` (form-encoded, the
//! application's client id and secret as HTTP Basic) for a code or a refresh token, and
//! `POST /oauth/revoke`.
//!
//! No call is retried: a refresh token works once, and an answer lost on the way back may
//! already have spent it.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use domain::{
    AuthorizationCode, CalendlyToken, CalendlyUserUri, OAuthAuthorization, OAuthGrant,
    OAuthProvider, OAuthStateToken, PkceVerifier, ProviderError, Scopes,
};
use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest as _, Sha256};
use tokio::time::Instant;
use tracing::instrument;

use super::answer::{Answer, transport_error, whole_answer};
use crate::crypto::random_text;
use crate::resilience::{CallObserver, CallOutcome, ClientBuildError};
use crate::tls_provider::install_tls_provider;

/// How to reach Calendly's OAuth server, and the application registered with it.
#[derive(Clone)]
pub struct CalendlyOAuthSettings {
    /// e.g. `https://auth.calendly.com`, without a trailing slash.
    pub auth_base_url: String,
    pub client_id: String,
    pub client_secret: SecretString,
    /// Where Calendly sends the browser back, as registered with Calendly.
    pub redirect_uri: String,
    /// The scopes asked for (`scope` on the authorization URL), space-separated; `None`: the
    /// application's registered ones.
    pub scopes: Option<String>,
    /// The deadline of one call.
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// Told of every call, when given (metrics).
    pub observer: Option<Arc<dyn CallObserver>>,
}

impl fmt::Debug for CalendlyOAuthSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CalendlyOAuthSettings")
            .field("auth_base_url", &self.auth_base_url)
            .field("client_id", &self.client_id)
            .field("redirect_uri", &self.redirect_uri)
            .finish_non_exhaustive()
    }
}

/// [`OAuthProvider`] on Calendly's OAuth server.
#[derive(Clone)]
pub struct CalendlyOAuthClient {
    http: reqwest::Client,
    settings: CalendlyOAuthSettings,
    /// `<auth_base_url>/oauth/authorize`.
    authorize_url: reqwest::Url,
}

impl fmt::Debug for CalendlyOAuthClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CalendlyOAuthClient")
            .field("settings", &self.settings)
            .field("authorize_url", &self.authorize_url.as_str())
            .finish_non_exhaustive()
    }
}

/// `POST /oauth/token`'s answer, read as far as the gateway needs.
#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    refresh_token: String,
    expires_in: u64,
    owner: String,
    /// The scopes granted, space-separated; older answers say `default`.
    #[serde(default)]
    scope: Option<String>,
}

impl CalendlyOAuthClient {
    pub fn new(settings: CalendlyOAuthSettings) -> Result<Self, ClientBuildError> {
        install_tls_provider();
        let http = reqwest::Client::builder()
            .connect_timeout(settings.connect_timeout.min(settings.timeout))
            .timeout(settings.timeout)
            .user_agent(concat!("calendly-gateway/", env!("CARGO_PKG_VERSION")))
            .build()?;
        let settings = CalendlyOAuthSettings {
            auth_base_url: settings.auth_base_url.trim_end_matches('/').to_owned(),
            ..settings
        };
        let authorize = format!("{}/oauth/authorize", settings.auth_base_url);
        let authorize_url = reqwest::Url::parse(&authorize)
            .map_err(|error| ClientBuildError::BaseUrl(authorize, error.to_string()))?;
        Ok(Self {
            http,
            settings,
            authorize_url,
        })
    }

    /// POSTs `form` to `path`, the application authenticated as the endpoint wants it: the
    /// status and whole body, or the port's error for a transport failure.
    async fn post(
        &self,
        path: &'static str,
        form: &[(&str, &str)],
        basic_auth: bool,
    ) -> Result<Answer, ProviderError> {
        let started = Instant::now();
        let mut request = self
            .http
            .post(format!("{}{path}", self.settings.auth_base_url))
            .form(form);
        if basic_auth {
            request = request.basic_auth(
                &self.settings.client_id,
                Some(self.settings.client_secret.expose_secret()),
            );
        }
        let answer = whole_answer(request).await;
        if let Some(observer) = &self.settings.observer {
            observer.observe(path, CallOutcome::of(&answer), started.elapsed());
        }
        answer.map_err(transport_error)
    }

    async fn token(&self, form: &[(&str, &str)]) -> Result<OAuthGrant, ProviderError> {
        let (status, rate, body) = self.post("/oauth/token", form, true).await?;
        if !status.is_success() {
            return Err(refusal(status, rate.reset, &body));
        }
        let answer: TokenAnswer =
            serde_json::from_slice(&body).map_err(|e| ProviderError::Unavailable {
                reason: format!("Calendly's token answer is not in its documented format: {e}"),
            })?;
        let malformed = |what: &str| ProviderError::Unavailable {
            reason: format!("Calendly's token answer has an unusable {what}"),
        };
        Ok(OAuthGrant {
            access_token: CalendlyToken::parse(&answer.access_token)
                .map_err(|_| malformed("access_token"))?,
            refresh_token: CalendlyToken::parse(&answer.refresh_token)
                .map_err(|_| malformed("refresh_token"))?,
            expires_in: Duration::from_secs(answer.expires_in),
            owner: CalendlyUserUri::parse(answer.owner).map_err(|_| malformed("owner"))?,
            scopes: answer.scope.as_deref().map(Scopes::parse),
        })
    }
}

/// PKCE's S256 challenge of `verifier`: base64url of its SHA-256.
fn challenge(verifier: &PkceVerifier) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.expose().as_bytes()))
}

#[async_trait]
impl OAuthProvider for CalendlyOAuthClient {
    fn authorization(&self) -> OAuthAuthorization {
        const VISIBLE: &str = "43 base64url characters are visible ASCII";
        // 32 random bytes: 43 characters, as PKCE wants a verifier, and as unguessable a state.
        let state = OAuthStateToken::parse(&random_text(32)).expect(VISIBLE);
        let verifier = PkceVerifier::parse(&random_text(32)).expect(VISIBLE);
        let mut url = self.authorize_url.clone();
        url.query_pairs_mut()
            .append_pair("client_id", &self.settings.client_id)
            .append_pair("response_type", "code")
            .append_pair("redirect_uri", &self.settings.redirect_uri)
            .append_pair("code_challenge", &challenge(&verifier))
            .append_pair("code_challenge_method", "S256")
            .append_pair("state", state.expose());
        if let Some(scopes) = &self.settings.scopes {
            url.query_pairs_mut().append_pair("scope", scopes);
        }
        OAuthAuthorization {
            authorize_url: url.into(),
            state,
            verifier,
        }
    }

    #[instrument(skip_all, err(Display))]
    async fn exchange_code(
        &self,
        code: &AuthorizationCode,
        verifier: &PkceVerifier,
    ) -> Result<OAuthGrant, ProviderError> {
        self.token(&[
            ("grant_type", "authorization_code"),
            ("code", code.expose()),
            ("redirect_uri", &self.settings.redirect_uri),
            ("code_verifier", verifier.expose()),
        ])
        .await
    }

    #[instrument(skip_all, err(Display))]
    async fn refresh(&self, refresh_token: &CalendlyToken) -> Result<OAuthGrant, ProviderError> {
        self.token(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.expose()),
        ])
        .await
    }

    #[instrument(skip_all, err(Display))]
    async fn revoke(&self, token: &CalendlyToken) -> Result<(), ProviderError> {
        let form = [
            ("client_id", self.settings.client_id.as_str()),
            ("client_secret", self.settings.client_secret.expose_secret()),
            ("token", token.expose()),
        ];
        let (status, rate, body) = self.post("/oauth/revoke", &form, false).await?;
        if status.is_success() {
            Ok(())
        } else {
            Err(refusal(status, rate.reset, &body))
        }
    }
}

/// The port's error for a refusal of the OAuth server (`{"error", "error_description"}`).
fn refusal(status: StatusCode, retry_after: Option<Duration>, body: &[u8]) -> ProviderError {
    let details = serde_json::from_slice::<Value>(body)
        .ok()
        .filter(Value::is_object);
    let error = details
        .as_ref()
        .and_then(|d| d["error"].as_str())
        .unwrap_or_default()
        .to_owned();
    match (status, details) {
        (StatusCode::TOO_MANY_REQUESTS, details) => ProviderError::RateLimited {
            retry_after,
            details: details.unwrap_or(Value::Null),
        },
        (StatusCode::BAD_REQUEST | StatusCode::UNAUTHORIZED, Some(details))
            if error == "invalid_grant" =>
        {
            ProviderError::CredentialRejected { details }
        }
        _ => ProviderError::Unavailable {
            reason: format!("Calendly's OAuth server answered {status} ({error:?})"),
        },
    }
}
