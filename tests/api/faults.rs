//! Calendly failing in every way we know of: each fault gives the contract's status within the
//! call's deadline, never a 500.

use std::sync::atomic::Ordering;
use std::time::Duration;

use serde_json::json;
use test_support::calendly;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::{CALENDLY_TOKEN, TestApp, USER, assert_error, assert_not_connected};

/// The Calendly deadline these tests run with.
const TIMEOUT_MS: u64 = 1500;
const EVENT_TYPE: &str = "https://api.calendly.com/event_types/FAULTS";
const CHECK: &str =
    "/calendly/check-availability?start_time=2031-03-03T00:00:00Z&end_time=2031-03-05T00:00:00Z";

/// A connected user with one event type, whose Calendly answers available times with
/// `response` (at most `times` times, if given).
async fn availability_answered_with(response: ResponseTemplate, times: Option<u64>) -> TestApp {
    let app = TestApp::spawn_with(|settings| settings.calendly.timeout_ms = TIMEOUT_MS).await;
    app.connect().await;
    app.calendly_has_event_types(&[calendly::event_type(EVENT_TYPE, "Faults")])
        .await;
    let mock = Mock::given(method("GET"))
        .and(path("/event_type_available_times"))
        .respond_with(response);
    match times {
        Some(n) => mock.up_to_n_times(n).mount(&app.calendly).await,
        None => mock.mount(&app.calendly).await,
    }
    app
}

/// The check, its answer checked against `status` and `code`. (How long it takes is not
/// asserted: a 504 can only come from the gateway's own deadline, Calendly's delays here being
/// far longer, and the deadline itself is timed once, in the adapter's tests.)
async fn check_gives(app: &TestApp, status: u16, code: &str) {
    assert_error(app.get(CHECK).await, status, code).await;
}

async fn availability_calls(app: &TestApp) -> usize {
    app.calendly_requests("/event_type_available_times")
        .await
        .len()
}

#[tokio::test]
async fn a_500_is_502_without_a_retry() {
    let app = availability_answered_with(
        ResponseTemplate::new(500).set_body_json(calendly::error(500)),
        None,
    )
    .await;
    check_gives(&app, 502, "calendly_unavailable").await;
    assert_eq!(availability_calls(&app).await, 1);
}

#[tokio::test]
async fn a_502_is_tried_once_more_then_502() {
    let app = availability_answered_with(ResponseTemplate::new(502), None).await;
    check_gives(&app, 502, "calendly_unavailable").await;
    assert_eq!(availability_calls(&app).await, 2);
}

#[tokio::test]
async fn a_passing_503_is_retried_and_the_check_succeeds() {
    let app = availability_answered_with(ResponseTemplate::new(503), Some(1)).await;
    Mock::given(method("GET"))
        .and(path("/event_type_available_times"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(calendly::available_times(&[
                calendly::available_time("2031-03-03T10:00:00.000000Z"),
            ])),
        )
        .mount(&app.calendly)
        .await;
    let response = app.get(CHECK).await;
    assert_eq!(response.status(), 200);
    assert_eq!(availability_calls(&app).await, 2);
}

#[tokio::test]
async fn a_429_is_answered_at_once_with_retry_after_and_not_retried() {
    let app = availability_answered_with(
        ResponseTemplate::new(429)
            .insert_header("X-RateLimit-Limit", "500")
            .insert_header("X-RateLimit-Remaining", "0")
            .insert_header("X-RateLimit-Reset", "17")
            .set_body_json(calendly::error(429)),
        None,
    )
    .await;
    let response = app.get(CHECK).await;
    assert_eq!(
        response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("17")
    );
    assert_error(response, 429, "calendly_rate_limited").await;
    assert_eq!(availability_calls(&app).await, 1);
}

#[tokio::test]
async fn a_body_that_is_not_json_is_502() {
    let app = availability_answered_with(
        ResponseTemplate::new(200)
            .insert_header("content-type", "application/json")
            .set_body_string("<html>upstream maintenance</html>"),
        None,
    )
    .await;
    check_gives(&app, 502, "calendly_unavailable").await;
}

#[tokio::test]
async fn an_answer_slower_than_the_timeout_is_504_within_the_deadline() {
    let app = availability_answered_with(
        ResponseTemplate::new(200)
            .set_body_json(calendly::available_times(&[]))
            .set_delay(Duration::from_secs(10)),
        None,
    )
    .await;
    check_gives(&app, 504, "calendly_timeout").await;
    assert_eq!(
        availability_calls(&app).await,
        1,
        "a timeout is not retried"
    );
}

/// The gateway, with Calendly at `address`.
async fn app_with_calendly_at(address: String) -> TestApp {
    TestApp::spawn_with(|settings| {
        settings.calendly.api_base_url = address;
        settings.calendly.timeout_ms = TIMEOUT_MS;
    })
    .await
}

#[tokio::test]
async fn a_body_that_stops_half_way_is_502_and_nothing_is_stored() {
    let (address, connections) = calendly::cutting_answers_short().await;
    let app = app_with_calendly_at(address).await;
    let response = app
        .put_connection_as(USER, &json!({ "personal_access_token": CALENDLY_TOKEN }))
        .await;
    assert_error(response, 502, "calendly_unavailable").await;
    assert_eq!(connections.load(Ordering::SeqCst), 2, "one retry");
    assert_not_connected(app.get("/calendly/connection").await).await;
}

#[tokio::test]
async fn a_refused_connection_is_502_at_once() {
    let refused = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("binds");
        format!("http://{}", listener.local_addr().expect("address"))
    };
    let app = app_with_calendly_at(refused).await;
    let response = app
        .put_connection_as(USER, &json!({ "personal_access_token": CALENDLY_TOKEN }))
        .await;
    assert_error(response, 502, "calendly_unavailable").await;
    assert_not_connected(app.get("/calendly/connection").await).await;
}

#[tokio::test]
async fn while_calendly_keeps_failing_requests_fail_fast_and_recover_by_themselves() {
    let app = TestApp::spawn_with(|settings| {
        settings.calendly.timeout_ms = TIMEOUT_MS;
        settings.calendly.circuit_breaker_failures = 3;
        settings.calendly.circuit_breaker_open_ms = 500;
    })
    .await;
    app.connect().await;
    app.calendly_has_event_types(&[calendly::event_type(EVENT_TYPE, "Faults")])
        .await;
    Mock::given(method("GET"))
        .and(path("/event_type_available_times"))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(3)
        .mount(&app.calendly)
        .await;
    Mock::given(method("GET"))
        .and(path("/event_type_available_times"))
        .respond_with(ResponseTemplate::new(200).set_body_json(calendly::available_times(&[])))
        .mount(&app.calendly)
        .await;

    for _ in 0..3 {
        check_gives(&app, 502, "calendly_unavailable").await;
    }
    // Open: refused without a call.
    assert_error(app.get(CHECK).await, 502, "calendly_unavailable").await;
    assert_eq!(availability_calls(&app).await, 3);

    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(app.get(CHECK).await.status(), 200);
    assert_eq!(app.get(CHECK).await.status(), 200);
    assert_eq!(availability_calls(&app).await, 5);
}
