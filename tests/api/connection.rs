//! `PUT`, `GET`, `DELETE /calendly/connection`.

use serde_json::json;
use test_support::calendly;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::{CALENDLY_TOKEN, TestApp, USER, assert_error, assert_not_connected, json_of};

#[tokio::test]
async fn connecting_checks_the_token_with_calendly_and_returns_the_connection() {
    let app = TestApp::spawn().await;
    Mock::given(method("GET"))
        .and(path("/users/me"))
        .and(header(
            "authorization",
            format!("Bearer {CALENDLY_TOKEN}").as_str(),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(calendly::users_me()))
        .expect(1)
        .mount(&app.calendly)
        .await;

    let response = app
        .put_connection_as(USER, &json!({ "personal_access_token": CALENDLY_TOKEN }))
        .await;

    let (status, body) = json_of(response).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["connected"], true);
    assert_eq!(
        body["user_uri"],
        "https://api.calendly.com/users/AAAAAAAAAAAAAAAA"
    );
    assert_eq!(body["name"], "John Doe");
    assert_eq!(body["email"], "user@example.com");
    assert_eq!(body["scheduling_url"], "https://calendly.com/acmesales");
    assert_eq!(body["timezone"], "America/New York");
    assert_eq!(body["method"], "personal_access_token");
    let connected_at = body["connected_at"].as_str().expect("a time");
    assert!(
        chrono::DateTime::parse_from_rfc3339(connected_at).is_ok(),
        "{connected_at}"
    );
    assert!(
        !body.to_string().contains(CALENDLY_TOKEN),
        "the token is never returned"
    );
}

#[tokio::test]
async fn the_connection_is_read_back_and_never_shows_the_token() {
    let app = TestApp::spawn().await;
    app.connect().await;

    let (status, body) = json_of(app.get("/calendly/connection").await).await;

    assert_eq!(status, 200);
    assert_eq!(body["connected"], true);
    assert_eq!(body["method"], "personal_access_token");
    assert_eq!(
        body["user_uri"],
        "https://api.calendly.com/users/AAAAAAAAAAAAAAAA"
    );
    assert!(!body.to_string().contains(CALENDLY_TOKEN));
}

#[tokio::test]
async fn without_a_connection_the_status_is_not_connected() {
    let app = TestApp::spawn().await;
    assert_not_connected(app.get("/calendly/connection").await).await;
}

#[tokio::test]
async fn disconnecting_forgets_the_connection_and_may_be_repeated() {
    let app = TestApp::spawn().await;
    app.connect().await;
    let delete = || {
        app.client
            .delete(app.url("/calendly/connection"))
            .bearer_auth(app.token(USER))
            .send()
    };

    let first = delete().await.expect("sent");
    assert_eq!(first.status(), 204);
    assert_eq!(first.text().await.expect("body"), "");
    assert_not_connected(app.get("/calendly/connection").await).await;
    assert_eq!(delete().await.expect("sent").status(), 204);
}

#[tokio::test]
async fn connections_belong_to_their_user() {
    let app = TestApp::spawn().await;
    app.connect().await;
    assert_not_connected(app.get_as("someone-else", "/calendly/connection").await).await;
    assert_not_connected(app.get_as("someone-else", "/calendly/user").await).await;
}

#[tokio::test]
async fn a_token_calendly_refuses_is_422_and_nothing_is_stored() {
    for status in [401, 403] {
        let app = TestApp::spawn().await;
        Mock::given(method("GET"))
            .and(path("/users/me"))
            .respond_with(ResponseTemplate::new(status).set_body_json(calendly::error(status)))
            .mount(&app.calendly)
            .await;

        let response = app
            .put_connection_as(USER, &json!({ "personal_access_token": "revoked-token" }))
            .await;

        assert_error(response, 422, "calendly_token_invalid").await;
        assert_not_connected(app.get("/calendly/connection").await).await;
    }
}

#[tokio::test]
async fn reconnecting_replaces_the_earlier_connection() {
    let app = TestApp::spawn().await;
    app.connect().await;
    app.calendly.reset().await;
    let mut other = calendly::users_me();
    other["resource"]["uri"] = json!("https://api.calendly.com/users/BBBBBBBBBBBBBBBB");
    Mock::given(method("GET"))
        .and(path("/users/me"))
        .and(header("authorization", "Bearer a-newer-token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(other))
        .mount(&app.calendly)
        .await;

    let response = app
        .put_connection_as(USER, &json!({ "personal_access_token": "a-newer-token" }))
        .await;
    assert_eq!(response.status(), 200);

    let (_, uri) = json_of(app.get("/calendly/user").await).await;
    assert_eq!(uri, "https://api.calendly.com/users/BBBBBBBBBBBBBBBB");
}

#[tokio::test]
async fn two_connects_at_once_leave_exactly_one_whole_connection() {
    let app = TestApp::spawn().await;
    for (token, user) in [("token-a", "AAAA"), ("token-b", "BBBB")] {
        let mut me = calendly::users_me();
        me["resource"]["uri"] = json!(format!("https://api.calendly.com/users/{user}"));
        Mock::given(method("GET"))
            .and(path("/users/me"))
            .and(header("authorization", format!("Bearer {token}").as_str()))
            .respond_with(ResponseTemplate::new(200).set_body_json(me))
            .mount(&app.calendly)
            .await;
    }

    let (body_a, body_b) = (
        json!({ "personal_access_token": "token-a" }),
        json!({ "personal_access_token": "token-b" }),
    );
    let (a, b) = tokio::join!(
        app.put_connection_as(USER, &body_a),
        app.put_connection_as(USER, &body_b),
    );
    assert_eq!((a.status().as_u16(), b.status().as_u16()), (200, 200));

    // The stored token and user belong together: event types are asked for with the token
    // of the user whose URI is stored.
    let (_, uri) = json_of(app.get("/calendly/user").await).await;
    let user = uri
        .as_str()
        .expect("uri")
        .rsplit('/')
        .next()
        .expect("id")
        .to_owned();
    let token = if user == "AAAA" { "token-a" } else { "token-b" };
    Mock::given(method("GET"))
        .and(path("/event_types"))
        .and(header("authorization", format!("Bearer {token}").as_str()))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(calendly::event_types_page(&[], None)),
        )
        .expect(1)
        .mount(&app.calendly)
        .await;
    assert_eq!(app.get("/calendly/user-event-types").await.status(), 200);
}

#[tokio::test]
async fn bad_bodies_are_refused_clearly_before_calling_calendly() {
    let app = TestApp::spawn().await;
    app.calendly_knows_the_user().await;
    let put = |body: &'static str, content_type: &'static str| {
        app.client
            .put(app.url("/calendly/connection"))
            .bearer_auth(app.token(USER))
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let cases = [
        ("", "application/json", 422, "missing_parameter"),
        ("{}", "application/json", 422, "missing_parameter"),
        (
            r#"{"personal_access_token": null}"#,
            "application/json",
            422,
            "missing_parameter",
        ),
        ("{not json", "application/json", 400, "invalid_parameter"),
        ("[1, 2]", "application/json", 400, "invalid_parameter"),
        (
            r#"{"personal_access_token": 12345}"#,
            "application/json",
            400,
            "invalid_parameter",
        ),
        (
            r#"{"personal_access_token": ""}"#,
            "application/json",
            400,
            "invalid_parameter",
        ),
        (
            r#"{"personal_access_token": "two words"}"#,
            "application/json",
            400,
            "invalid_parameter",
        ),
        (
            r#"{"personal_access_token": "a\r\nX-Injected: yes"}"#,
            "application/json",
            400,
            "invalid_parameter",
        ),
    ];
    for (body, content_type, status, code) in cases {
        let response = put(body, content_type).await.expect("sent");
        assert_error(response, status, code).await;
    }
    assert!(app.calendly_requests("/users/me").await.is_empty());
    assert_not_connected(app.get("/calendly/connection").await).await;
}

#[tokio::test]
async fn an_oversized_body_is_413_json() {
    let app = TestApp::spawn().await;
    let huge = format!(
        r#"{{"personal_access_token": "{}"}}"#,
        "a".repeat(64 * 1024)
    );
    let response = app
        .client
        .put(app.url("/calendly/connection"))
        .bearer_auth(app.token(USER))
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .expect("sent");
    assert_error(response, 413, "payload_too_large").await;
}

#[tokio::test]
async fn when_calendly_fails_during_connect_nothing_is_stored() {
    let app = TestApp::spawn().await;
    Mock::given(method("GET"))
        .and(path("/users/me"))
        .respond_with(ResponseTemplate::new(500).set_body_json(calendly::error(500)))
        .mount(&app.calendly)
        .await;

    let response = app
        .put_connection_as(USER, &json!({ "personal_access_token": CALENDLY_TOKEN }))
        .await;

    assert_error(response, 502, "calendly_unavailable").await;
    assert_not_connected(app.get("/calendly/connection").await).await;
}

#[tokio::test]
async fn calendly_unreachable_during_connect_is_502_and_nothing_is_stored() {
    // Port 1 on loopback: nothing listens there, so every connection is refused.
    let app = TestApp::spawn_with(|s| s.calendly.api_base_url = "http://127.0.0.1:1".into()).await;

    let response = app
        .put_connection_as(USER, &json!({ "personal_access_token": CALENDLY_TOKEN }))
        .await;

    assert_error(response, 502, "calendly_unavailable").await;
    assert_not_connected(app.get("/calendly/connection").await).await;
}
