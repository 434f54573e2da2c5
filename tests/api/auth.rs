//! Every Calendly endpoint demands the application's bearer token.

use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;

use crate::helpers::{JWT_SECRET, TestApp, assert_error, assert_not_connected};

const PROTECTED: [(&str, &str); 6] = [
    ("PUT", "/calendly/connection"),
    ("GET", "/calendly/connection"),
    ("DELETE", "/calendly/connection"),
    ("GET", "/calendly/user"),
    ("GET", "/calendly/user-event-types"),
    (
        "GET",
        "/calendly/check-availability?start_time=2031-01-01T00:00:00Z&end_time=2031-01-02T00:00:00Z",
    ),
];

fn jwt(secret: &str, algorithm: Algorithm, exp_offset: i64) -> String {
    adapters::jwt::install_hmac_provider();
    jsonwebtoken::encode(
        &Header::new(algorithm),
        &json!({ "sub": "42", "exp": now() + exp_offset }),
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("signed")
}

async fn send(
    app: &TestApp,
    method: &str,
    path: &str,
    authorization: Option<&str>,
) -> reqwest::Response {
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let mut request = app.client.request(method, app.url(path));
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    request
        .json(&json!({ "personal_access_token": "x" }))
        .send()
        .await
        .expect("sent")
}

async fn assert_unauthenticated(response: reqwest::Response, detail: &str, code: &str) {
    assert_eq!(
        response
            .headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok()),
        Some("Bearer")
    );
    assert_eq!(assert_error(response, 401, code).await, detail);
}

#[tokio::test]
async fn without_credentials_every_endpoint_is_401_not_authenticated() {
    let app = TestApp::spawn().await;
    for (method, path) in PROTECTED {
        for authorization in [
            None,
            Some("Basic dXNlcjpwYXNz"),
            Some("Bearer"),
            Some("Bearer   "),
        ] {
            let response = send(&app, method, path, authorization).await;
            assert_unauthenticated(response, "Not authenticated", "not_authenticated").await;
        }
    }
    assert!(
        app.calendly
            .received_requests()
            .await
            .unwrap_or_default()
            .is_empty()
    );
}

/// Asserts that every protected endpoint refuses `token` as invalid credentials.
async fn assert_refused_everywhere(app: &TestApp, token: &str) {
    let authorization = format!("Bearer {token}");
    for (method, path) in PROTECTED {
        let response = send(app, method, path, Some(&authorization)).await;
        assert_unauthenticated(
            response,
            "Invalid authentication credentials",
            "invalid_credentials",
        )
        .await;
    }
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

fn base64url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A token signed with the configured secret, with these claims.
fn hs256_with(claims: &serde_json::Value) -> String {
    adapters::jwt::install_hmac_provider();
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(JWT_SECRET.as_bytes()),
    )
    .expect("signed")
}

#[tokio::test]
async fn a_token_signed_with_another_key_is_401() {
    let app = TestApp::spawn().await;
    assert_refused_everywhere(
        &app,
        &jwt(
            "another-secret-entirely-of-some-length",
            Algorithm::HS256,
            600,
        ),
    )
    .await;
}

#[tokio::test]
async fn a_token_of_another_algorithm_is_401_even_with_the_right_secret() {
    let app = TestApp::spawn().await;
    for algorithm in [Algorithm::HS384, Algorithm::HS512] {
        assert_refused_everywhere(&app, &jwt(JWT_SECRET, algorithm, 600)).await;
    }
}

#[tokio::test]
async fn an_unsigned_alg_none_token_is_401() {
    let app = TestApp::spawn().await;
    let header = base64url(br#"{"alg":"none","typ":"JWT"}"#);
    let claims = base64url(
        json!({ "sub": "42", "exp": now() + 600 })
            .to_string()
            .as_bytes(),
    );
    assert_refused_everywhere(&app, &format!("{header}.{claims}.")).await;
}

#[tokio::test]
async fn an_alg_none_header_on_a_valid_signature_is_401() {
    let app = TestApp::spawn().await;
    // A valid HS256 token whose header is swapped for `alg: none`.
    let valid = jwt(JWT_SECRET, Algorithm::HS256, 600);
    let mut parts = valid.split('.');
    let (_, claims, signature) = (parts.next(), parts.next(), parts.next());
    let header = base64url(br#"{"alg":"none","typ":"JWT"}"#);
    assert_refused_everywhere(
        &app,
        &format!(
            "{header}.{}.{}",
            claims.expect("claims"),
            signature.expect("signature")
        ),
    )
    .await;
}

#[tokio::test]
async fn a_token_without_exp_is_401() {
    let app = TestApp::spawn().await;
    assert_refused_everywhere(&app, &hs256_with(&json!({ "sub": "42" }))).await;
}

#[tokio::test]
async fn a_token_whose_nbf_is_in_the_future_is_401() {
    let app = TestApp::spawn().await;
    assert_refused_everywhere(
        &app,
        &hs256_with(&json!({ "sub": "42", "exp": now() + 600, "nbf": now() + 300 })),
    )
    .await;
}

#[tokio::test]
async fn malformed_tokens_are_401() {
    let app = TestApp::spawn().await;
    for token in [
        "not-a-jwt",
        "a.b.c",
        "eyJhbGciOiJIUzI1NiJ9.e30",
        "....",
        "eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.c2ln",
    ] {
        assert_refused_everywhere(&app, token).await;
    }
}

#[tokio::test]
async fn an_expired_token_is_401_invalid() {
    let app = TestApp::spawn().await;
    let expired = format!("Bearer {}", jwt(JWT_SECRET, Algorithm::HS256, -5));
    for (method, path) in PROTECTED {
        let response = send(&app, method, path, Some(&expired)).await;
        assert_unauthenticated(
            response,
            "Invalid authentication credentials",
            "token_expired",
        )
        .await;
    }
}

#[tokio::test]
async fn the_scheme_is_case_insensitive() {
    let app = TestApp::spawn().await;
    let response = send(
        &app,
        "GET",
        "/calendly/user",
        Some(&format!("bearer {}", app.token("42"))),
    )
    .await;
    assert_not_connected(response).await;
}
