//! Calendly tokens at rest: AES-256-GCM with a fresh random nonce for every write, and the
//! user id as associated data, so a sealed token moved to another user's row does not open.
//! Several keys may be configured, each with an id stored beside what it sealed: the first
//! seals, every one opens, so keys can be rotated.

use std::fmt;

use aes_gcm::aead::rand_core::RngCore as _;
use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD as BASE64, URL_SAFE_NO_PAD};
use domain::{CalendlyToken, UserId};
use secrecy::{ExposeSecret, SecretString};

const NONCE_LEN: usize = 12;

/// `bytes` random bytes from the operating system, base64url without padding: OAuth states
/// and verifiers, webhook hook ids and signing keys, an instance's name in its notices.
pub(crate) fn random_text(bytes: usize) -> String {
    let mut random = vec![0_u8; bytes];
    OsRng.fill_bytes(&mut random);
    URL_SAFE_NO_PAD.encode(random)
}

/// Why the configured keys cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("the token encryption key {0:?} is not valid base64")]
    NotBase64(String),
    #[error("the token encryption key {0:?} must be 32 bytes (base64 of 32 bytes), not {1}")]
    WrongLength(String, usize),
    #[error("no token encryption key is configured")]
    NoKey,
    #[error("the token encryption key id {0:?} is given twice")]
    DuplicateId(String),
    #[error("the token encryption key id {0:?} is not 1 to 64 letters, digits, '-', '_' or '.'")]
    BadId(String),
}

/// Why a sealed token did not open.
#[derive(Debug, thiserror::Error)]
pub enum UnsealError {
    #[error("the token was sealed with key {0:?}, which is not configured")]
    UnknownKey(String),
    #[error("the sealed token failed authentication (wrong key or tampered value)")]
    Tampered,
    #[error("the decrypted token is not a valid token")]
    Malformed,
}

/// A token as stored: which key sealed it, and `nonce || ciphertext || tag`.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedToken {
    pub key_id: String,
    pub bytes: Vec<u8>,
}

impl fmt::Debug for SealedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealedToken")
            .field("key_id", &self.key_id)
            .field("len", &self.bytes.len())
            .finish()
    }
}

/// Seals Calendly tokens with the first configured key and opens them with whichever key
/// sealed them.
#[derive(Clone)]
pub struct TokenCipher {
    /// The first seals.
    keys: Vec<(String, Aes256Gcm)>,
}

impl fmt::Debug for TokenCipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenCipher")
            .field(
                "key_ids",
                &self.keys.iter().map(|(id, _)| id).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

fn aes_key(key_id: &str, key: &SecretString) -> Result<Aes256Gcm, KeyError> {
    let bytes = BASE64
        .decode(key.expose_secret().trim())
        .map_err(|_| KeyError::NotBase64(key_id.to_owned()))?;
    Aes256Gcm::new_from_slice(&bytes)
        .map_err(|_| KeyError::WrongLength(key_id.to_owned(), bytes.len()))
}

impl TokenCipher {
    /// The id of the single `calendly.token_encryption_key`.
    pub const DEFAULT_KEY_ID: &'static str = "default";

    /// A cipher over one key, the base64 of 32 random bytes.
    pub fn from_base64(key_id: &str, key: &SecretString) -> Result<Self, KeyError> {
        Self::from_keys(&[(key_id.to_owned(), key.clone())])
    }

    /// A cipher over several `(id, base64 key)`: the first seals, all open.
    pub fn from_keys(keys: &[(String, SecretString)]) -> Result<Self, KeyError> {
        if keys.is_empty() {
            return Err(KeyError::NoKey);
        }
        let mut ring: Vec<(String, Aes256Gcm)> = Vec::with_capacity(keys.len());
        for (id, key) in keys {
            let valid_id = (1..=64).contains(&id.len())
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
            if !valid_id {
                return Err(KeyError::BadId(id.clone()));
            }
            if ring.iter().any(|(known, _)| known == id) {
                return Err(KeyError::DuplicateId(id.clone()));
            }
            ring.push((id.clone(), aes_key(id, key)?));
        }
        Ok(Self { keys: ring })
    }

    /// The id of the key that seals.
    pub fn current_key_id(&self) -> &str {
        &self.keys[0].0
    }

    /// `token`, sealed for `user_id`: the user id is the associated data, so a sealed token
    /// copied to another user's row does not open.
    pub fn seal(&self, user_id: &UserId, token: &CalendlyToken) -> SealedToken {
        self.seal_bytes(user_id.as_str().as_bytes(), token.expose().as_bytes())
    }

    pub fn open(
        &self,
        user_id: &UserId,
        sealed: &SealedToken,
    ) -> Result<CalendlyToken, UnsealError> {
        let text = self.open_text(user_id.as_str().as_bytes(), sealed)?;
        CalendlyToken::parse(&text).map_err(|_| UnsealError::Malformed)
    }

    /// `secret`, sealed for `user_id` and `purpose` (such as `oauth_verifier`): both are the
    /// associated data, so it opens only for that user and purpose, never as a token.
    pub fn seal_for(&self, purpose: &str, user_id: &UserId, secret: &str) -> SealedToken {
        self.seal_bytes(&purposed(purpose, user_id), secret.as_bytes())
    }

    /// What [`TokenCipher::seal_for`] sealed, for the same `purpose` and `user_id`.
    pub fn open_for(
        &self,
        purpose: &str,
        user_id: &UserId,
        sealed: &SealedToken,
    ) -> Result<String, UnsealError> {
        self.open_text(&purposed(purpose, user_id), sealed)
    }

    fn seal_bytes(&self, aad: &[u8], plaintext: &[u8]) -> SealedToken {
        let (key_id, cipher) = &self.keys[0];
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let ciphertext = cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .expect("AES-GCM encryption of a short message cannot fail");
        let mut bytes = Vec::with_capacity(NONCE_LEN + ciphertext.len());
        bytes.extend_from_slice(&nonce);
        bytes.extend_from_slice(&ciphertext);
        SealedToken {
            key_id: key_id.clone(),
            bytes,
        }
    }

    fn open_text(&self, aad: &[u8], sealed: &SealedToken) -> Result<String, UnsealError> {
        let Some((_, cipher)) = self.keys.iter().find(|(id, _)| *id == sealed.key_id) else {
            return Err(UnsealError::UnknownKey(sealed.key_id.clone()));
        };
        if sealed.bytes.len() <= NONCE_LEN {
            return Err(UnsealError::Tampered);
        }
        let (nonce, ciphertext) = sealed.bytes.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| UnsealError::Tampered)?;
        let plaintext = cipher
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: ciphertext,
                    aad,
                },
            )
            .map_err(|_| UnsealError::Tampered)?;
        String::from_utf8(plaintext).map_err(|_| UnsealError::Malformed)
    }
}

/// The associated data of a secret sealed for a purpose: never a bare user id, which is the
/// associated data of tokens.
fn purposed(purpose: &str, user_id: &UserId) -> Vec<u8> {
    format!("{purpose}\0{user_id}").into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> SecretString {
        SecretString::from(BASE64.encode([byte; 32]))
    }

    fn user(id: &str) -> UserId {
        UserId::parse(id).expect("user id")
    }

    fn token() -> CalendlyToken {
        CalendlyToken::parse("eyJraWQiOiIxY2UxZTEzNjE3ZGNmNzY2YjNjZWJjY2Y4ZGM1YmFmYThhNjVlNjg0")
            .expect("token")
    }

    #[test]
    fn seal_then_open_gives_the_token_back() {
        let cipher = TokenCipher::from_base64("k1", &key(7)).expect("key");
        let sealed = cipher.seal(&user("42"), &token());
        assert_eq!(
            cipher.open(&user("42"), &sealed).expect("opens").expose(),
            token().expose()
        );
    }

    #[test]
    fn sealed_bytes_do_not_contain_the_token_and_differ_each_time() {
        let cipher = TokenCipher::from_base64("k1", &key(7)).expect("key");
        let a = cipher.seal(&user("42"), &token());
        let b = cipher.seal(&user("42"), &token());
        assert_ne!(a.bytes, b.bytes, "a fresh nonce per write");
        let needle = token().expose().as_bytes().to_vec();
        assert!(
            !a.bytes
                .windows(needle.len())
                .any(|w| w == needle.as_slice())
        );
    }

    #[test]
    fn a_wrong_key_another_user_or_a_flipped_bit_do_not_open() {
        let cipher = TokenCipher::from_base64("k1", &key(7)).expect("key");
        let sealed = cipher.seal(&user("42"), &token());

        let other_key = TokenCipher::from_base64("k1", &key(8)).expect("key");
        assert!(matches!(
            other_key.open(&user("42"), &sealed),
            Err(UnsealError::Tampered)
        ));
        assert!(matches!(
            cipher.open(&user("43"), &sealed),
            Err(UnsealError::Tampered)
        ));

        let mut flipped = sealed.clone();
        let last = flipped.bytes.len() - 1;
        flipped.bytes[last] ^= 1;
        assert!(matches!(
            cipher.open(&user("42"), &flipped),
            Err(UnsealError::Tampered)
        ));

        let short = SealedToken {
            key_id: "k1".into(),
            bytes: vec![1, 2, 3],
        };
        assert!(matches!(
            cipher.open(&user("42"), &short),
            Err(UnsealError::Tampered)
        ));

        let other_id = SealedToken {
            key_id: "k0".into(),
            ..sealed
        };
        assert!(matches!(
            cipher.open(&user("42"), &other_id),
            Err(UnsealError::UnknownKey(_))
        ));
    }

    #[test]
    fn keys_must_be_base64_of_32_bytes() {
        assert!(matches!(
            TokenCipher::from_base64("k", &SecretString::from("not base64!")),
            Err(KeyError::NotBase64(_))
        ));
        assert!(matches!(
            TokenCipher::from_base64("k", &SecretString::from(BASE64.encode([1u8; 16]))),
            Err(KeyError::WrongLength(_, 16))
        ));
    }

    #[test]
    fn the_first_key_seals_and_every_key_opens() {
        let old = TokenCipher::from_base64("2025", &key(1)).expect("key");
        let sealed_before = old.seal(&user("42"), &token());

        let ring = TokenCipher::from_keys(&[("2026".into(), key(2)), ("2025".into(), key(1))])
            .expect("keys");
        assert_eq!(ring.current_key_id(), "2026");
        assert_eq!(
            ring.open(&user("42"), &sealed_before)
                .expect("old key opens")
                .expose(),
            token().expose()
        );
        let sealed_now = ring.seal(&user("42"), &token());
        assert_eq!(sealed_now.key_id, "2026");
        assert!(matches!(
            old.open(&user("42"), &sealed_now),
            Err(UnsealError::UnknownKey(_))
        ));
    }

    #[test]
    fn key_ids_must_be_distinct_and_plain() {
        assert!(matches!(
            TokenCipher::from_keys(&[("a".into(), key(1)), ("a".into(), key(2))]),
            Err(KeyError::DuplicateId(_))
        ));
        assert!(matches!(
            TokenCipher::from_keys(&[("has space".into(), key(1))]),
            Err(KeyError::BadId(_))
        ));
        assert!(matches!(TokenCipher::from_keys(&[]), Err(KeyError::NoKey)));
    }

    #[test]
    fn a_secret_sealed_for_a_purpose_opens_for_that_purpose_and_user_only() {
        let cipher = TokenCipher::from_base64("k", &key(1)).expect("key");
        let sealed = cipher.seal_for("oauth_verifier", &user("42"), "the-verifier");
        assert_eq!(
            cipher
                .open_for("oauth_verifier", &user("42"), &sealed)
                .expect("opens"),
            "the-verifier"
        );
        assert!(
            cipher
                .open_for("refresh_token", &user("42"), &sealed)
                .is_err()
        );
        assert!(
            cipher
                .open_for("oauth_verifier", &user("43"), &sealed)
                .is_err()
        );
        assert!(
            cipher.open(&user("42"), &sealed).is_err(),
            "never as a token"
        );
    }

    #[test]
    fn debug_shows_no_key_material() {
        let cipher = TokenCipher::from_base64("k1", &key(7)).expect("key");
        let shown = format!("{cipher:?}");
        assert!(!shown.contains(&BASE64.encode([7u8; 32])));
    }
}
