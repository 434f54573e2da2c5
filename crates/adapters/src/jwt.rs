//! The application's access tokens: HS256 JWTs whose `sub` is the user id.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use domain::{AuthError, UserAuth, UserId};
use jsonwebtoken::crypto::{CryptoProvider, JwtSigner, JwtVerifier, KeyUtils};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::signature::{self, Signer, Verifier};
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::hashing::HashMap;

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
    /// Required, and checked, by the validation; read again to know how long a token that
    /// passed stays good.
    #[serde(default)]
    exp: Option<f64>,
}

/// Tokens that passed, each with its user and the second it expires at.
type Verified = HashMap<Box<str>, (UserId, u64)>;

/// Most tokens remembered as verified; past it, all are forgotten and verified again.
const MOST_REMEMBERED: usize = 10_000;

#[derive(Serialize)]
struct IssuedClaims<'a> {
    sub: &'a str,
    iat: u64,
    exp: u64,
}

/// [`UserAuth`] over HS256 JWTs signed with the shared secret. Only HS256 is accepted; `exp`
/// and `sub` are required, `nbf` is honoured when present, and no leeway is given.
///
/// A token that passed is remembered (the whole token, with its user and `exp`) until it
/// expires, so that a client's next request with it is not decoded and verified again: the
/// answer for the same bytes under the same key cannot change but by time.
#[derive(Clone)]
pub struct JwtUserAuth {
    key: DecodingKey,
    validation: Validation,
    verified: Arc<Mutex<Verified>>,
}

impl fmt::Debug for JwtUserAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtUserAuth").finish_non_exhaustive()
    }
}

impl JwtUserAuth {
    pub fn new(secret: &SecretString) -> Self {
        install_hmac_provider();
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
            verified: Arc::default(),
        }
    }

    /// The user of `token` if it passed before and has not expired since.
    fn remembered(&self, token: &str, now: u64) -> Option<UserId> {
        let verified = self.verified.lock().unwrap_or_else(PoisonError::into_inner);
        let (user, expires) = verified.get(token)?;
        (now < *expires).then(|| user.clone())
    }

    fn remember(&self, token: &str, user: &UserId, expires: u64) {
        let mut verified = self.verified.lock().unwrap_or_else(PoisonError::into_inner);
        if verified.len() >= MOST_REMEMBERED {
            verified.clear();
        }
        verified.insert(token.into(), (user.clone(), expires));
    }
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
}

impl UserAuth for JwtUserAuth {
    fn authenticate(&self, bearer_token: &str) -> Result<UserId, AuthError> {
        if bearer_token.is_empty() {
            return Err(AuthError::Missing);
        }
        let now = now_secs();
        if let Some(user) = self.remembered(bearer_token, now) {
            return Ok(user);
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
        let user = UserId::parse(sub).map_err(|_| AuthError::Invalid)?;
        if let Some(exp) = data.claims.exp.filter(|exp| exp.is_finite() && *exp > 0.0) {
            // Whole seconds before `exp`: never longer than the validation would allow.
            #[expect(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                reason = "a positive finite time in seconds; saturates past u64"
            )]
            let expires = exp.floor() as u64;
            self.remember(bearer_token, &user, expires);
        }
        Ok(user)
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
        install_hmac_provider();
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

/// jsonwebtoken's cryptography, HMAC alone: the gateway accepts HS256 only, and the library's
/// own providers would bring RSA, elliptic curves and Ed25519 with them (the `rsa` crate has an
/// advisory without a fix, RUSTSEC-2023-0071). HS384 and HS512 are there for signing the forged
/// tokens of the tests; `Validation` refuses any algorithm but HS256 before a key is used.
static HMAC_ONLY: CryptoProvider = CryptoProvider {
    signer_factory: hmac_signer,
    verifier_factory: hmac_verifier,
    key_utils: KeyUtils::new_unimplemented(),
};

/// Makes [`HMAC_ONLY`] jsonwebtoken's provider in this process; a second call changes nothing.
/// [`JwtUserAuth`] and [`JwtIssuer`] call it; code that signs or reads tokens with
/// jsonwebtoken directly (tests forging tokens) calls it first.
pub fn install_hmac_provider() {
    let _ = HMAC_ONLY.install_default();
}

/// An HMAC key and the algorithm it serves.
#[derive(Clone)]
enum HmacKey {
    Sha256(hmac::Hmac<sha2::Sha256>),
    Sha384(hmac::Hmac<sha2::Sha384>),
    Sha512(hmac::Hmac<sha2::Sha512>),
}

impl HmacKey {
    fn new(algorithm: Algorithm, secret: &[u8]) -> jsonwebtoken::errors::Result<Self> {
        use hmac::Mac as _;
        let invalid = |_| jsonwebtoken::errors::Error::from(ErrorKind::InvalidKeyFormat);
        Ok(match algorithm {
            Algorithm::HS256 => Self::Sha256(hmac::Hmac::new_from_slice(secret).map_err(invalid)?),
            Algorithm::HS384 => Self::Sha384(hmac::Hmac::new_from_slice(secret).map_err(invalid)?),
            Algorithm::HS512 => Self::Sha512(hmac::Hmac::new_from_slice(secret).map_err(invalid)?),
            _ => return Err(ErrorKind::InvalidAlgorithm.into()),
        })
    }

    fn algorithm(&self) -> Algorithm {
        match self {
            Self::Sha256(_) => Algorithm::HS256,
            Self::Sha384(_) => Algorithm::HS384,
            Self::Sha512(_) => Algorithm::HS512,
        }
    }

    fn mac(&self, message: &[u8]) -> Vec<u8> {
        fn of<M: hmac::Mac + Clone>(key: &M, message: &[u8]) -> Vec<u8> {
            let mut mac = key.clone();
            mac.update(message);
            mac.finalize().into_bytes().to_vec()
        }
        match self {
            Self::Sha256(key) => of(key, message),
            Self::Sha384(key) => of(key, message),
            Self::Sha512(key) => of(key, message),
        }
    }

    /// Compares in constant time.
    fn verify(&self, message: &[u8], tag: &[u8]) -> bool {
        fn of<M: hmac::Mac + Clone>(key: &M, message: &[u8], tag: &[u8]) -> bool {
            let mut mac = key.clone();
            mac.update(message);
            mac.verify_slice(tag).is_ok()
        }
        match self {
            Self::Sha256(key) => of(key, message, tag),
            Self::Sha384(key) => of(key, message, tag),
            Self::Sha512(key) => of(key, message, tag),
        }
    }
}

impl Signer<Vec<u8>> for HmacKey {
    fn try_sign(&self, message: &[u8]) -> Result<Vec<u8>, signature::Error> {
        Ok(self.mac(message))
    }
}

impl JwtSigner for HmacKey {
    fn algorithm(&self) -> Algorithm {
        HmacKey::algorithm(self)
    }
}

impl Verifier<Vec<u8>> for HmacKey {
    fn verify(&self, message: &[u8], tag: &Vec<u8>) -> Result<(), signature::Error> {
        if HmacKey::verify(self, message, tag) {
            Ok(())
        } else {
            Err(signature::Error::new())
        }
    }
}

impl JwtVerifier for HmacKey {
    fn algorithm(&self) -> Algorithm {
        HmacKey::algorithm(self)
    }
}

fn hmac_signer(
    algorithm: &Algorithm,
    key: &EncodingKey,
) -> jsonwebtoken::errors::Result<Box<dyn JwtSigner>> {
    if key.family() != AlgorithmFamily::Hmac {
        return Err(ErrorKind::InvalidKeyFormat.into());
    }
    Ok(Box::new(HmacKey::new(*algorithm, key.as_bytes())?))
}

fn hmac_verifier(
    algorithm: &Algorithm,
    key: &DecodingKey,
) -> jsonwebtoken::errors::Result<Box<dyn JwtVerifier>> {
    if key.family() != AlgorithmFamily::Hmac {
        return Err(ErrorKind::InvalidKeyFormat.into());
    }
    Ok(Box::new(HmacKey::new(*algorithm, key.try_get_as_bytes()?)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token_for(auth_secret: &str, user: &str, ttl: Duration) -> String {
        JwtIssuer::new(&SecretString::from(auth_secret.to_owned()))
            .issue(&UserId::parse(user).expect("user id"), ttl)
    }

    const SECRET: &str = "a-test-secret-that-is-long-enough-for-hs256";

    #[test]
    fn a_token_that_passed_is_remembered_until_its_exp_only() {
        let auth = JwtUserAuth::new(&SecretString::from(SECRET));
        let token = token_for(SECRET, "user-1", Duration::from_secs(60));
        let user = auth.authenticate(&token).expect("valid");
        let (_, expires) = auth
            .verified
            .lock()
            .expect("lock")
            .get(token.as_str())
            .cloned()
            .expect("remembered");
        assert_eq!(auth.remembered(&token, expires - 1), Some(user));
        assert_eq!(auth.remembered(&token, expires), None, "not at its exp");
    }

    #[test]
    fn only_the_very_token_that_passed_is_remembered() {
        let auth = JwtUserAuth::new(&SecretString::from(SECRET));
        let token = token_for(SECRET, "user-1", Duration::from_secs(60));
        auth.authenticate(&token).expect("valid");
        let mut tampered = token.clone();
        let last = tampered.pop().expect("a character");
        tampered.push(if last == 'A' { 'B' } else { 'A' });
        assert_eq!(auth.authenticate(&tampered), Err(AuthError::Invalid));
        let other_key = token_for(
            "another-secret-that-is-long-enough-too",
            "user-1",
            Duration::from_secs(60),
        );
        assert_eq!(auth.authenticate(&other_key), Err(AuthError::Invalid));
        assert_eq!(
            auth.verified.lock().expect("lock").len(),
            1,
            "refusals are not kept"
        );
    }

    #[test]
    fn past_the_most_remembered_all_are_forgotten() {
        let auth = JwtUserAuth::new(&SecretString::from(SECRET));
        let user = UserId::parse("user-1").expect("user id");
        for at in 0..MOST_REMEMBERED {
            auth.remember(&format!("token-{at}"), &user, u64::MAX);
        }
        auth.remember("one-more", &user, u64::MAX);
        let verified = auth.verified.lock().expect("lock");
        assert_eq!(verified.len(), 1);
        assert!(verified.contains_key("one-more"));
    }
}
