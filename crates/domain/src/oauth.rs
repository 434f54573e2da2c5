//! The vocabulary of connecting with Calendly's OAuth server: what travels through the
//! browser (state, code), what the gateway keeps meanwhile (the start and its PKCE verifier),
//! and what the server grants.

use std::fmt;

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};

use crate::model::{CalendlyToken, CalendlyUserUri, InvalidValue, UserId};

macro_rules! secret_text {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Clone)]
        pub struct $name(SecretString);

        impl $name {
            /// At most 4096 bytes of visible ASCII, as it arrived in a URL or a form.
            pub fn parse(value: &str) -> Result<Self, InvalidValue> {
                if value.is_empty() || value.len() > 4096 || !value.bytes().all(|b| b.is_ascii_graphic()) {
                    return Err(InvalidValue(format!(
                        "{} must be 1 to 4096 visible ASCII characters",
                        $what
                    )));
                }
                Ok(Self(SecretString::from(value)))
            }

            /// The value itself, for the one place that sends it.
            pub fn expose(&self) -> &str {
                self.0.expose_secret()
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}([REDACTED])", stringify!($name))
            }
        }
    };
}

secret_text!(
    /// The code Calendly's OAuth server hands the browser back with: single use, short-lived,
    /// a secret while it lives. Its `Debug` never shows it.
    AuthorizationCode,
    "code"
);
secret_text!(
    /// The PKCE verifier of one OAuth start: only its hash leaves the gateway before the code is
    /// exchanged. Its `Debug` never shows it.
    PkceVerifier,
    "code_verifier"
);

secret_text!(
    /// The random `state` of one OAuth start, carried through Calendly and back to the
    /// callback: whoever holds it may finish that start, so it is a secret while it lives.
    OAuthStateToken,
    "state"
);

/// An OAuth start awaiting Calendly's callback: who started it, the PKCE verifier whose hash
/// went to Calendly, and until when the callback may finish it.
#[derive(Debug, Clone)]
pub struct OAuthStart {
    pub user_id: UserId,
    pub verifier: PkceVerifier,
    pub expires_at: DateTime<Utc>,
}

/// What Calendly's OAuth server grants for a code or a refresh token: a pair of tokens, and
/// whose they are.
#[derive(Debug, Clone)]
pub struct OAuthGrant {
    pub access_token: CalendlyToken,
    /// Works once: refreshing with it revokes it.
    pub refresh_token: CalendlyToken,
    /// How long the access token lives from now.
    pub expires_in: std::time::Duration,
    /// The Calendly user the tokens act for.
    pub owner: CalendlyUserUri,
    /// The scopes granted (the answer's `scope`), when it said.
    pub scopes: Option<crate::scope::Scopes>,
}

/// Where to send the browser to start connecting, and what the callback needs to finish:
/// the random state that comes back with it and the PKCE verifier whose hash the URL carries.
#[derive(Debug, Clone)]
pub struct OAuthAuthorization {
    pub state: OAuthStateToken,
    pub verifier: PkceVerifier,
    /// The authorization page's URL, with client id, redirect URI, challenge and state.
    pub authorize_url: String,
}

/// What the browser brought back to the callback. A parameter missing, repeated or not in
/// the shape the server sends is `None`.
#[derive(Debug, Clone, Default)]
pub struct OAuthCallback {
    pub state: Option<OAuthStateToken>,
    pub code: Option<AuthorizationCode>,
    /// The server's `error`, such as `access_denied` when the user declined.
    pub error: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oauth_secrets_are_checked_and_never_shown() {
        let code = AuthorizationCode::parse("code-abc_123").expect("valid code");
        assert_eq!(code.expose(), "code-abc_123");
        assert!(!format!("{code:?}").contains("abc"));
        let verifier = PkceVerifier::parse("verifier-xyz").expect("valid verifier");
        assert!(!format!("{verifier:?}").contains("xyz"));
        assert!(AuthorizationCode::parse("").is_err());
        assert!(AuthorizationCode::parse("a b").is_err());
        assert!(AuthorizationCode::parse(&"a".repeat(4097)).is_err());
    }
}
