//! `GET /calendly/user-event-types`, and how Calendly's failures reach the client.

use std::time::Duration;

use serde_json::{Value, json};
use test_support::calendly;
use wiremock::matchers::{header, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::{CALENDLY_TOKEN, TestApp, assert_error, assert_not_connected, json_of};

#[tokio::test]
async fn every_page_is_returned_as_one_array_with_every_field_kept() {
    let app = TestApp::spawn().await;
    app.connect().await;
    let mut event_types: Vec<Value> = (1..=5)
        .map(|i| {
            calendly::event_type(
                &format!("https://api.calendly.com/event_types/E{i}"),
                &format!("Type {i}"),
            )
        })
        .collect();
    event_types[4]["field_calendly_added_later"] = json!({ "kept": true });
    let pages = [
        (None, &event_types[0..2], Some("p2")),
        (Some("p2"), &event_types[2..4], Some("p3")),
        (Some("p3"), &event_types[4..5], None),
    ];
    for (token, items, next) in pages {
        let mock = Mock::given(method("GET"))
            .and(path("/event_types"))
            .and(query_param("user", calendly::user_uri().as_str()))
            .and(header(
                "authorization",
                format!("Bearer {CALENDLY_TOKEN}").as_str(),
            ));
        let mock = match token {
            Some(token) => mock.and(query_param("page_token", token)),
            None => mock.and(query_param_is_missing("page_token")),
        };
        mock.respond_with(
            ResponseTemplate::new(200).set_body_json(calendly::event_types_page(items, next)),
        )
        .expect(1)
        .mount(&app.calendly)
        .await;
    }

    let (status, body) = json_of(app.get("/calendly/user-event-types").await).await;

    assert_eq!(status, 200);
    assert_eq!(body, Value::Array(event_types));
}

#[tokio::test]
async fn a_user_without_event_types_gets_an_empty_array() {
    let app = TestApp::spawn().await;
    app.connect().await;
    app.calendly_has_event_types(&[]).await;
    let (status, body) = json_of(app.get("/calendly/user-event-types").await).await;
    assert_eq!((status, body), (200, json!([])));
}

#[tokio::test]
async fn without_a_connection_it_is_not_connected() {
    let app = TestApp::spawn().await;
    assert_not_connected(app.get("/calendly/user-event-types").await).await;
}

async fn calendly_answers_event_types_with(app: &TestApp, response: ResponseTemplate) {
    Mock::given(method("GET"))
        .and(path("/event_types"))
        .respond_with(response)
        .mount(&app.calendly)
        .await;
}

#[tokio::test]
async fn a_token_calendly_no_longer_accepts_is_424_with_calendlys_body() {
    let app = TestApp::spawn().await;
    app.connect().await;
    calendly_answers_event_types_with(
        &app,
        ResponseTemplate::new(401).set_body_json(calendly::error(401)),
    )
    .await;

    let detail = assert_error(
        app.get("/calendly/user-event-types").await,
        424,
        "calendly_reauth_required",
    )
    .await;
    assert_eq!(detail, calendly::error(401));
}

#[tokio::test]
async fn calendlys_refusals_keep_their_status_and_body() {
    for status in [400u16, 403, 404, 409] {
        let app = TestApp::spawn().await;
        app.connect().await;
        calendly_answers_event_types_with(
            &app,
            ResponseTemplate::new(status).set_body_json(calendly::error(status)),
        )
        .await;

        let detail = assert_error(
            app.get("/calendly/user-event-types").await,
            status,
            "calendly_error",
        )
        .await;
        assert_eq!(detail, calendly::error(status), "{status}");
    }
}

#[tokio::test]
async fn calendlys_rate_limit_is_429_with_retry_after() {
    let app = TestApp::spawn().await;
    app.connect().await;
    calendly_answers_event_types_with(
        &app,
        ResponseTemplate::new(429)
            .insert_header("X-RateLimit-Limit", "500")
            .insert_header("X-RateLimit-Remaining", "0")
            .insert_header("X-RateLimit-Reset", "42")
            .set_body_json(calendly::error(429)),
    )
    .await;

    let response = app.get("/calendly/user-event-types").await;
    assert_eq!(
        response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("42")
    );
    assert_error(response, 429, "calendly_rate_limited").await;
}

#[tokio::test]
async fn calendly_failing_or_answering_nonsense_is_502() {
    let cases = [
        ResponseTemplate::new(500).set_body_json(calendly::error(500)),
        ResponseTemplate::new(503).set_body_string("Service Unavailable"),
        ResponseTemplate::new(200).set_body_string("<html>not json</html>"),
        ResponseTemplate::new(200)
            .set_body_json(json!({ "collection": [{ "name": "no uri" }], "pagination": {} })),
    ];
    for response in cases {
        let app = TestApp::spawn().await;
        app.connect().await;
        calendly_answers_event_types_with(&app, response).await;
        let detail = assert_error(
            app.get("/calendly/user-event-types").await,
            502,
            "calendly_unavailable",
        )
        .await;
        assert!(!detail.to_string().contains(CALENDLY_TOKEN));
    }
}

#[tokio::test]
async fn calendly_too_slow_is_504_within_the_deadline() {
    let app = TestApp::spawn_with(|s| s.calendly.timeout_ms = 300).await;
    app.connect().await;
    calendly_answers_event_types_with(
        &app,
        ResponseTemplate::new(200)
            .set_body_json(calendly::event_types_page(&[], None))
            .set_delay(Duration::from_secs(5)),
    )
    .await;

    assert_error(
        app.get("/calendly/user-event-types").await,
        504,
        "calendly_timeout",
    )
    .await;
}
