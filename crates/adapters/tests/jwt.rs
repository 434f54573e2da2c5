//! Access tokens: only HS256 JWTs signed with the configured secret, within their lifetime.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use adapters::jwt::{JwtIssuer, JwtUserAuth};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use domain::{AuthError, UserAuth};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use secrecy::SecretString;
use serde_json::{Value, json};

const SECRET: &str = "a-test-secret-that-is-long-enough-for-hs256";

fn auth() -> JwtUserAuth {
    JwtUserAuth::new(&SecretString::from(SECRET))
}

fn now() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock")
            .as_secs(),
    )
    .expect("fits")
}

fn signed(algorithm: Algorithm, secret: &str, claims: &Value) -> String {
    adapters::jwt::install_hmac_provider();
    jsonwebtoken::encode(
        &Header::new(algorithm),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("signed")
}

fn hs256(claims: &Value) -> String {
    signed(Algorithm::HS256, SECRET, claims)
}

#[test]
fn a_valid_token_names_its_user() {
    let token = hs256(&json!({ "sub": "user-42", "exp": now() + 60 }));
    assert_eq!(
        auth().authenticate(&token).map(|u| u.to_string()),
        Ok("user-42".into())
    );
}

#[test]
fn an_integer_subject_is_accepted_as_the_original_issued_them() {
    let token = hs256(&json!({ "sub": 42, "exp": now() + 60 }));
    assert_eq!(
        auth().authenticate(&token).map(|u| u.to_string()),
        Ok("42".into())
    );
}

#[test]
fn issued_tokens_are_accepted() {
    let issuer = JwtIssuer::new(&SecretString::from(SECRET));
    let user = domain::UserId::parse("7").expect("user id");
    let token = issuer.issue(&user, Duration::from_secs(60));
    assert_eq!(auth().authenticate(&token), Ok(user));
}

#[test]
fn an_empty_token_is_missing() {
    assert_eq!(auth().authenticate(""), Err(AuthError::Missing));
}

#[test]
fn a_past_exp_is_expired() {
    let token = hs256(&json!({ "sub": "42", "exp": now() - 1 }));
    assert_eq!(auth().authenticate(&token), Err(AuthError::Expired));
}

#[test]
fn forged_and_malformed_tokens_are_invalid() {
    let header_none = B64URL.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = B64URL.encode(json!({ "sub": "42", "exp": now() + 60 }).to_string());
    let valid = hs256(&json!({ "sub": "42", "exp": now() + 60 }));
    let (valid_head, _) = valid.rsplit_once('.').expect("three parts");
    let cases = [
        (
            "alg none, no signature",
            format!("{header_none}.{payload}."),
        ),
        (
            "alg none, a signature",
            format!("{header_none}.{payload}.c2ln"),
        ),
        (
            "HS512",
            signed(
                Algorithm::HS512,
                SECRET,
                &json!({ "sub": "42", "exp": now() + 60 }),
            ),
        ),
        (
            "HS384",
            signed(
                Algorithm::HS384,
                SECRET,
                &json!({ "sub": "42", "exp": now() + 60 }),
            ),
        ),
        (
            "wrong key",
            signed(
                Algorithm::HS256,
                "another-secret",
                &json!({ "sub": "42", "exp": now() + 60 }),
            ),
        ),
        ("no exp", hs256(&json!({ "sub": "42" }))),
        ("no sub", hs256(&json!({ "exp": now() + 60 }))),
        ("empty sub", hs256(&json!({ "sub": "", "exp": now() + 60 }))),
        (
            "sub an object",
            hs256(&json!({ "sub": { "id": 1 }, "exp": now() + 60 })),
        ),
        (
            "exp a string",
            hs256(&json!({ "sub": "42", "exp": "tomorrow" })),
        ),
        (
            "nbf in the future",
            hs256(&json!({ "sub": "42", "exp": now() + 600, "nbf": now() + 300 })),
        ),
        ("signature stripped", format!("{valid_head}.")),
        ("signature altered", format!("{valid_head}.AAAA")),
        ("not a JWT", "not-a-jwt".to_string()),
        ("two parts", "abc.def".to_string()),
        ("garbage parts", "!!!.???.###".to_string()),
    ];
    for (case, token) in cases {
        assert_eq!(
            auth().authenticate(&token),
            Err(AuthError::Invalid),
            "{case}"
        );
    }
}
