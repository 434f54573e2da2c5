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
    let now = i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock")
            .as_secs(),
    )
    .expect("fits");
    jsonwebtoken::encode(
        &Header::new(algorithm),
        &json!({ "sub": "42", "exp": now + exp_offset }),
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

#[tokio::test]
async fn bad_credentials_are_401_invalid() {
    let app = TestApp::spawn().await;
    let wrong_key = format!(
        "Bearer {}",
        jwt(
            "another-secret-entirely-of-some-length",
            Algorithm::HS256,
            600
        )
    );
    let other_algorithm = format!("Bearer {}", jwt(JWT_SECRET, Algorithm::HS512, 600));
    for (method, path) in PROTECTED {
        for authorization in [
            "Bearer not-a-jwt",
            wrong_key.as_str(),
            other_algorithm.as_str(),
        ] {
            let response = send(&app, method, path, Some(authorization)).await;
            assert_unauthenticated(
                response,
                "Invalid authentication credentials",
                "invalid_credentials",
            )
            .await;
        }
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
