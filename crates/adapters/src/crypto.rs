//! Calendly tokens at rest: AES-256-GCM with a fresh random nonce for every write, and the
//! user id as associated data, so a sealed token moved to another user's row does not open.

use std::fmt;

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use domain::{CalendlyToken, UserId};
use secrecy::{ExposeSecret, SecretString};

const NONCE_LEN: usize = 12;

/// Why a configured key cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("the token encryption key is not valid base64")]
    NotBase64,
    #[error("the token encryption key must be 32 bytes (base64 of 32 bytes), not {0}")]
    WrongLength(usize),
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

/// Seals and opens Calendly tokens with a configured key.
#[derive(Clone)]
pub struct TokenCipher {
    key_id: String,
    cipher: Aes256Gcm,
}

impl fmt::Debug for TokenCipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenCipher")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

impl TokenCipher {
    /// The id under which the single `calendly.token_encryption_key` seals.
    pub const DEFAULT_KEY_ID: &'static str = "default";

    /// A cipher over `key`, the base64 of 32 random bytes.
    pub fn from_base64(key_id: &str, key: &SecretString) -> Result<Self, KeyError> {
        let bytes = BASE64
            .decode(key.expose_secret().trim())
            .map_err(|_| KeyError::NotBase64)?;
        if bytes.len() != 32 {
            return Err(KeyError::WrongLength(bytes.len()));
        }
        Ok(Self {
            key_id: key_id.to_owned(),
            cipher: Aes256Gcm::new_from_slice(&bytes)
                .map_err(|_| KeyError::WrongLength(bytes.len()))?,
        })
    }

    pub fn seal(&self, user_id: &UserId, token: &CalendlyToken) -> SealedToken {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let ciphertext = self
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: token.expose().as_bytes(),
                    aad: user_id.as_str().as_bytes(),
                },
            )
            .expect("AES-GCM encryption of a short message cannot fail");
        let mut bytes = Vec::with_capacity(NONCE_LEN + ciphertext.len());
        bytes.extend_from_slice(&nonce);
        bytes.extend_from_slice(&ciphertext);
        SealedToken {
            key_id: self.key_id.clone(),
            bytes,
        }
    }

    pub fn open(
        &self,
        user_id: &UserId,
        sealed: &SealedToken,
    ) -> Result<CalendlyToken, UnsealError> {
        if sealed.key_id != self.key_id {
            return Err(UnsealError::UnknownKey(sealed.key_id.clone()));
        }
        if sealed.bytes.len() <= NONCE_LEN {
            return Err(UnsealError::Tampered);
        }
        let (nonce, ciphertext) = sealed.bytes.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| UnsealError::Tampered)?;
        let plaintext = self
            .cipher
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: ciphertext,
                    aad: user_id.as_str().as_bytes(),
                },
            )
            .map_err(|_| UnsealError::Tampered)?;
        let text = String::from_utf8(plaintext).map_err(|_| UnsealError::Malformed)?;
        CalendlyToken::parse(&text).map_err(|_| UnsealError::Malformed)
    }
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
            Err(KeyError::NotBase64)
        ));
        assert!(matches!(
            TokenCipher::from_base64("k", &SecretString::from(BASE64.encode([1u8; 16]))),
            Err(KeyError::WrongLength(16))
        ));
    }

    #[test]
    fn debug_shows_no_key_material() {
        let cipher = TokenCipher::from_base64("k1", &key(7)).expect("key");
        let shown = format!("{cipher:?}");
        assert!(!shown.contains(&BASE64.encode([7u8; 32])));
    }
}
