//! The application's access tokens: HS256 JWTs whose `sub` is the user id.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use domain::{AuthError, UserAuth, UserId};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

/// `sub` as the application writes it: a string, or (as the original service did) an integer.
#[derive(Deserialize)]
#[serde(untagged)]
enum Subject {
    Text(String),
    Integer(i64),
}

#[derive(Deserialize)]
struct Claims {
    sub: Subject,
}

#[derive(Serialize)]
struct IssuedClaims<'a> {
    sub: &'a str,
    iat: u64,
    exp: u64,
}

/// [`UserAuth`] over HS256 JWTs signed with the shared secret. Only HS256 is accepted; `exp`
/// and `sub` are required, `nbf` is honoured when present, and no leeway is given.
#[derive(Clone)]
pub struct JwtUserAuth {
    key: DecodingKey,
    validation: Validation,
}

impl fmt::Debug for JwtUserAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtUserAuth").finish_non_exhaustive()
    }
}

impl JwtUserAuth {
    pub fn new(secret: &SecretString) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        // `sub` is required by `Claims` itself: the library's own check wants a string, and
        // the original application issued integers.
        validation.set_required_spec_claims(&["exp"]);
        Self {
            key: DecodingKey::from_secret(secret.expose_secret().as_bytes()),
            validation,
        }
    }
}

impl UserAuth for JwtUserAuth {
    fn authenticate(&self, bearer_token: &str) -> Result<UserId, AuthError> {
        if bearer_token.is_empty() {
            return Err(AuthError::Missing);
        }
        let data = jsonwebtoken::decode::<Claims>(bearer_token, &self.key, &self.validation)
            .map_err(|error| match error.kind() {
                ErrorKind::ExpiredSignature => AuthError::Expired,
                _ => AuthError::Invalid,
            })?;
        let sub = match data.claims.sub {
            Subject::Text(text) => text,
            Subject::Integer(number) => number.to_string(),
        };
        UserId::parse(sub).map_err(|_| AuthError::Invalid)
    }
}

/// Signs access tokens the way the application does: for local development and tests.
#[derive(Clone)]
pub struct JwtIssuer {
    key: EncodingKey,
}

impl fmt::Debug for JwtIssuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtIssuer").finish_non_exhaustive()
    }
}

impl JwtIssuer {
    pub fn new(secret: &SecretString) -> Self {
        Self {
            key: EncodingKey::from_secret(secret.expose_secret().as_bytes()),
        }
    }

    /// A token for `user_id` that expires `ttl` from now.
    pub fn issue(&self, user_id: &UserId, ttl: Duration) -> String {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let claims = IssuedClaims {
            sub: user_id.as_str(),
            iat: now,
            exp: now.saturating_add(ttl.as_secs()),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.key)
            .expect("HS256 signing of plain claims cannot fail")
    }
}
