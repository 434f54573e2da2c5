//! The reference web client at `/demo/` and its sign-in, `POST /demo/session`: there while
//! `demo.enabled` (the local profile), absent otherwise; and CORS as a page on another origin
//! needs it to book.

use serde_json::json;

use crate::helpers::{TestApp, assert_error, json_of};

async fn session(app: &TestApp, body: &str) -> reqwest::Response {
    app.client
        .post(app.url("/demo/session"))
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .expect("sent")
}

#[tokio::test]
async fn a_demo_visitor_is_signed_in_as_the_user_id_they_give() {
    let app = TestApp::spawn().await;
    let response = session(&app, r#"{"user_id": "ada"}"#).await;
    assert_eq!(response.headers()["cache-control"], "no-store");
    let (status, body) = json_of(response).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 3600);
    let token = body["access_token"].as_str().expect("a token");

    // The token is the user's: authenticated, and not connected yet.
    let response = app
        .client
        .get(app.url("/calendly/connection"))
        .bearer_auth(token)
        .send()
        .await
        .expect("sent");
    assert_error(response, 404, "calendly_not_connected").await;
}

#[tokio::test]
async fn a_sign_in_without_a_usable_user_id_is_refused_and_named() {
    let app = TestApp::spawn().await;
    for (body, status, code) in [
        ("", 422, "missing_parameter"),
        ("{}", 422, "missing_parameter"),
        (r#"{"user_id": null}"#, 422, "missing_parameter"),
        (r#"{"user_id": ""}"#, 400, "invalid_parameter"),
        (r#"{"user_id": 42}"#, 400, "invalid_parameter"),
        ("[]", 400, "invalid_parameter"),
        ("{not json", 400, "invalid_parameter"),
    ] {
        let detail = assert_error(session(&app, body).await, status, code).await;
        assert!(
            detail.as_str().is_some_and(|d| !d.is_empty()),
            "{body}: {detail}"
        );
    }
    let long = json!({ "user_id": "x".repeat(256) }).to_string();
    assert_error(session(&app, &long).await, 400, "invalid_parameter").await;
    let response = app
        .client
        .get(app.url("/demo/session"))
        .send()
        .await
        .expect("sent");
    assert_error(response, 405, "method_not_allowed").await;
}

#[tokio::test]
async fn the_client_is_served_from_the_binary_with_its_security_headers() {
    let app = TestApp::spawn().await;
    let not_following = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a client");
    let response = not_following
        .get(app.url("/demo"))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 308);
    assert_eq!(response.headers()["location"], "/demo/");

    let response = app.get("/demo/").await;
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    assert_eq!(headers["referrer-policy"], "no-referrer");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    let policy = headers["content-security-policy"].to_str().expect("ascii");
    assert!(
        policy.contains("default-src 'self'") && policy.contains("connect-src 'self'"),
        "{policy}"
    );
    let page = response.text().await.expect("text");
    assert_eq!(
        page,
        std::fs::read_to_string(crate::helpers::workspace_dir().join("web/dist/index.html"))
            .expect("web/dist/index.html"),
        "the page served is the committed build"
    );
    assert!(page.contains(r#"src="app.js""#), "{page}");

    let response = app.get("/demo/app.js").await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/javascript; charset=utf-8"
    );
    let etag = response.headers()["etag"].clone();
    let response = app
        .client
        .get(app.url("/demo/app.js"))
        .header("if-none-match", etag)
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 304);
    assert_error(app.get("/demo/missing.js").await, 404, "not_found").await;
    assert_error(app.get("/demo/../Cargo.toml").await, 404, "not_found").await;
}

#[tokio::test]
async fn with_the_demo_off_neither_the_client_nor_its_sign_in_exists() {
    let app = TestApp::spawn_with(|settings| settings.demo.enabled = false).await;
    assert_error(
        session(&app, r#"{"user_id": "ada"}"#).await,
        404,
        "not_found",
    )
    .await;
    assert_error(app.get("/demo/").await, 404, "not_found").await;
    assert_error(app.get("/demo").await, 404, "not_found").await;
}

#[tokio::test]
async fn a_page_on_an_allowed_origin_may_book_with_an_idempotency_key() {
    const ORIGIN: &str = "https://app.example.com";
    let app = TestApp::spawn_with(|settings| {
        settings.http.cors_allowed_origins = vec![ORIGIN.to_owned()];
    })
    .await;
    let response = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/calendly/bookings"))
        .header("origin", ORIGIN)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type, idempotency-key",
        )
        .send()
        .await
        .expect("sent");
    assert!(response.status().is_success(), "{}", response.status());
    assert_eq!(response.headers()["access-control-allow-origin"], ORIGIN);
    let allowed = response.headers()["access-control-allow-headers"]
        .to_str()
        .expect("ascii")
        .to_ascii_lowercase();
    assert!(allowed.contains("idempotency-key"), "{allowed}");

    let response = app
        .client
        .get(app.url("/healthz"))
        .header("origin", ORIGIN)
        .send()
        .await
        .expect("sent");
    let exposed = response.headers()["access-control-expose-headers"]
        .to_str()
        .expect("ascii")
        .to_ascii_lowercase();
    for header in [
        "retry-after",
        "location",
        "idempotent-replayed",
        "x-request-id",
    ] {
        assert!(exposed.contains(header), "{header} not in {exposed}");
    }
}
