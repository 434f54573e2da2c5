//! The Calendly adapter against a wiremock Calendly serving the documented example bodies.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use adapters::calendly::{CalendlyClient, CallObserver, CallOutcome, CircuitBreaker};
use chrono::DateTime;
use domain::{
    CalendlyToken, CalendlyUserUri, EventTypeUri, ProviderError, Rejection, SchedulingProvider,
    TimeRange,
};
use serde_json::{Value, json};
use test_support::calendly;
use wiremock::matchers::{header, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

mod support;

const TOKEN: &str = "calendly-personal-access-token";

/// A client with a circuit that never opens.
fn client(server: &MockServer, timeout: Duration) -> CalendlyClient {
    client_with(&server.uri(), timeout, support::never_open(), None)
}

fn client_with(
    base_url: &str,
    timeout: Duration,
    circuit: Arc<CircuitBreaker>,
    observer: Option<Arc<dyn CallObserver>>,
) -> CalendlyClient {
    support::client_with(base_url, timeout, circuit, observer, Arc::default())
}

fn token() -> CalendlyToken {
    CalendlyToken::parse(TOKEN).expect("token")
}

fn user_uri() -> CalendlyUserUri {
    CalendlyUserUri::parse(calendly::user_uri()).expect("uri")
}

fn event_type_uri() -> EventTypeUri {
    EventTypeUri::parse("https://api.calendly.com/event_types/AAAAAAAAAAAAAAAA").expect("uri")
}

fn range(start: &str, end: &str) -> TimeRange {
    TimeRange::new(
        DateTime::parse_from_rfc3339(start).expect("time").to_utc(),
        DateTime::parse_from_rfc3339(end).expect("time").to_utc(),
    )
    .expect("range")
}

async fn answer_users_me_with(server: &MockServer, response: ResponseTemplate) {
    Mock::given(method("GET"))
        .and(path("/users/me"))
        .respond_with(response)
        .mount(server)
        .await;
}

#[tokio::test]
async fn current_user_reads_the_documented_user_with_the_bearer_token() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/users/me"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(calendly::users_me()))
        .expect(1)
        .mount(&server)
        .await;

    let user = client(&server, Duration::from_secs(5))
        .current_user(&token())
        .await
        .expect("user");

    assert_eq!(
        user.uri.as_str(),
        "https://api.calendly.com/users/AAAAAAAAAAAAAAAA"
    );
    assert_eq!(user.name, "John Doe");
    assert_eq!(user.email, "user@example.com");
    assert_eq!(user.scheduling_url, "https://calendly.com/acmesales");
    assert_eq!(user.timezone, "America/New York");
}

/// Calendly answering `/event_types` for the documented user with each `(page token asked for,
/// page)` once: the first page is the one asked for without a token.
async fn serve_pages<const N: usize>(server: &MockServer, pages: [(Option<&str>, Value); N]) {
    for (page_token, body) in pages {
        let mock = Mock::given(method("GET"))
            .and(path("/event_types"))
            .and(query_param("user", calendly::user_uri().as_str()))
            .and(query_param("count", "100"))
            .and(header("authorization", format!("Bearer {TOKEN}").as_str()));
        let mock = match page_token {
            Some(page_token) => mock.and(query_param("page_token", page_token)),
            None => mock.and(query_param_is_missing("page_token")),
        };
        mock.respond_with(ResponseTemplate::new(200).set_body_json(body))
            .expect(1)
            .mount(server)
            .await;
    }
}

#[tokio::test]
async fn event_types_follow_every_page_and_keep_every_field() {
    let server = MockServer::start().await;
    let first = calendly::event_type("https://api.calendly.com/event_types/E1", "First");
    let second = calendly::event_type("https://api.calendly.com/event_types/E2", "Second");
    let mut third = calendly::event_type("https://api.calendly.com/event_types/E3", "Third");
    third["a_field_calendly_added_later"] = json!({ "nested": [1, 2, 3] });
    let pages = [
        (
            None,
            calendly::event_types_page(std::slice::from_ref(&first), Some("page-2")),
        ),
        (
            Some("page-2"),
            calendly::event_types_page(std::slice::from_ref(&second), Some("page-3")),
        ),
        (
            Some("page-3"),
            calendly::event_types_page(&[third.clone()], None),
        ),
    ];
    serve_pages(&server, pages).await;

    let event_types = client(&server, Duration::from_secs(5))
        .event_types(&token(), &user_uri())
        .await
        .expect("event types");

    let uris: Vec<&str> = event_types.iter().map(|e| e.uri.as_str()).collect();
    assert_eq!(
        uris,
        [
            "https://api.calendly.com/event_types/E1",
            "https://api.calendly.com/event_types/E2",
            "https://api.calendly.com/event_types/E3"
        ]
    );
    let kept: Vec<Value> = event_types
        .iter()
        .map(|e| serde_json::from_slice(e.json.as_bytes()).expect("json"))
        .collect();
    assert_eq!(kept, [first, second, third]);
}

#[tokio::test]
async fn the_documented_example_page_is_read() {
    let server = MockServer::start().await;
    let mut example = calendly::event_types_example();
    example["pagination"]["next_page_token"] = Value::Null;
    Mock::given(method("GET"))
        .and(path("/event_types"))
        .respond_with(ResponseTemplate::new(200).set_body_json(&example))
        .mount(&server)
        .await;

    let event_types = client(&server, Duration::from_secs(5))
        .event_types(&token(), &user_uri())
        .await
        .expect("event types");

    assert_eq!(event_types.len(), 1);
    let kept: Value = serde_json::from_slice(event_types[0].json.as_bytes()).expect("json");
    assert_eq!(kept, example["collection"][0]);
}

/// A mock of Calendly's published description answers every page with the documented
/// example, whose `next_page_token` is always the same.
#[tokio::test]
async fn the_documented_example_served_for_every_page_is_its_event_type_once() {
    let server = MockServer::start().await;
    let example = calendly::event_types_example();
    assert!(example["pagination"]["next_page_token"].is_string());
    Mock::given(method("GET"))
        .and(path("/event_types"))
        .respond_with(ResponseTemplate::new(200).set_body_json(&example))
        .mount(&server)
        .await;

    let event_types = client(&server, Duration::from_secs(5))
        .event_types(&token(), &user_uri())
        .await
        .expect("event types, not a failure");

    assert_eq!(event_types.len(), 1);
    let kept: Value = serde_json::from_slice(event_types[0].json.as_bytes()).expect("json");
    assert_eq!(kept, example["collection"][0]);
    assert_eq!(server.received_requests().await.map(|r| r.len()), Some(2));
}

#[tokio::test]
async fn a_page_token_seen_before_ends_the_list_with_each_event_type_once() {
    let server = MockServer::start().await;
    let e = |n: u32| {
        calendly::event_type(
            &format!("https://api.calendly.com/event_types/E{n}"),
            &format!("E{n}"),
        )
    };
    serve_pages(
        &server,
        [
            (None, calendly::event_types_page(&[e(1), e(2)], Some("p2"))),
            (
                Some("p2"),
                calendly::event_types_page(&[e(2), e(3)], Some("p3")),
            ),
            // Back to the second page: a loop.
            (
                Some("p3"),
                calendly::event_types_page(&[e(3), e(1)], Some("p2")),
            ),
        ],
    )
    .await;

    let event_types = client(&server, Duration::from_secs(5))
        .event_types(&token(), &user_uri())
        .await
        .expect("event types");

    let uris: Vec<&str> = event_types.iter().map(|e| e.uri.as_str()).collect();
    assert_eq!(
        uris,
        [
            "https://api.calendly.com/event_types/E1",
            "https://api.calendly.com/event_types/E2",
            "https://api.calendly.com/event_types/E3",
        ]
    );
}

#[tokio::test]
async fn available_times_are_asked_for_the_range_and_kept_as_written() {
    let server = MockServer::start().await;
    let example = calendly::available_times_example();
    Mock::given(method("GET"))
        .and(path("/event_type_available_times"))
        .and(query_param("event_type", event_type_uri().as_str()))
        .and(query_param("start_time", "2030-01-02T20:00:00.000000Z"))
        .and(query_param("end_time", "2030-01-09T20:00:00.000000Z"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(&example))
        .expect(1)
        .mount(&server)
        .await;

    let times = client(&server, Duration::from_secs(5))
        .available_times(
            &token(),
            &user_uri(),
            &event_type_uri(),
            range("2030-01-02T21:00:00+01:00", "2030-01-09T20:00:00Z"),
        )
        .await
        .expect("times");

    assert_eq!(times.len(), 3);
    assert_eq!(
        times.iter().next().expect("a time").start_time.to_rfc3339(),
        "2020-01-02T20:00:00+00:00"
    );
    let kept: Vec<Value> = times
        .iter()
        .map(|t| serde_json::from_slice(t.json.as_bytes()).expect("json"))
        .collect();
    assert_eq!(Value::Array(kept), example["collection"]);
}

#[tokio::test]
async fn each_refusal_maps_to_its_error_with_calendlys_body() {
    for status in [400u16, 401, 403, 404, 409] {
        let server = MockServer::start().await;
        answer_users_me_with(
            &server,
            ResponseTemplate::new(status).set_body_json(calendly::error(status)),
        )
        .await;

        let error = client(&server, Duration::from_secs(5))
            .current_user(&token())
            .await
            .expect_err("refused");

        let details = match (status, error) {
            (401, ProviderError::CredentialRejected { details }) => details,
            (
                400,
                ProviderError::Rejected {
                    reason: Rejection::BadArgument,
                    details,
                },
            )
            | (
                403,
                ProviderError::Rejected {
                    reason: Rejection::Forbidden,
                    details,
                },
            )
            | (
                404,
                ProviderError::Rejected {
                    reason: Rejection::NotFound,
                    details,
                },
            )
            | (
                409,
                ProviderError::Rejected {
                    reason: Rejection::Conflict,
                    details,
                },
            ) => details,
            (status, other) => panic!("{status} gave {other:?}"),
        };
        assert_eq!(details, calendly::error(status), "{status}");
    }
}

#[tokio::test]
async fn a_403_for_a_missing_scope_names_the_scope_the_endpoint_needs() {
    let server = MockServer::start().await;
    let refusal = serde_json::json!({
        "title": "Permission Denied",
        "message": "The access token is missing the required scope: event_types:read",
    });
    Mock::given(method("GET"))
        .and(path("/event_types"))
        .respond_with(ResponseTemplate::new(403).set_body_json(refusal.clone()))
        .mount(&server)
        .await;
    let error = client(&server, Duration::from_secs(5))
        .event_types(&token(), &user_uri())
        .await
        .expect_err("refused");
    match error {
        ProviderError::ScopeMissing { scope, details } => {
            assert_eq!(scope, domain::Scope::EventTypesRead);
            assert_eq!(details, refusal);
        }
        other => panic!("{other:?}"),
    }
    // Any other 403 stays Calendly's own refusal.
    let server = MockServer::start().await;
    answer_users_me_with(
        &server,
        ResponseTemplate::new(403).set_body_json(calendly::error(403)),
    )
    .await;
    let error = client(&server, Duration::from_secs(5))
        .current_user(&token())
        .await
        .expect_err("refused");
    assert!(
        matches!(
            error,
            ProviderError::Rejected {
                reason: Rejection::Forbidden,
                ..
            }
        ),
        "{error:?}"
    );
}

#[tokio::test]
async fn rate_limiting_carries_the_reset_time() {
    let server = MockServer::start().await;
    answer_users_me_with(
        &server,
        ResponseTemplate::new(429)
            .insert_header("X-RateLimit-Limit", "500")
            .insert_header("X-RateLimit-Remaining", "0")
            .insert_header("X-RateLimit-Reset", "37")
            .set_body_json(calendly::error(429)),
    )
    .await;

    let error = client(&server, Duration::from_secs(5))
        .current_user(&token())
        .await
        .expect_err("limited");
    assert_eq!(calls(&server).await, 1, "a 429 is not retried");

    match error {
        ProviderError::RateLimited {
            retry_after,
            details,
        } => {
            assert_eq!(retry_after, Some(Duration::from_secs(37)));
            assert_eq!(details, calendly::error(429));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn server_errors_and_bodies_that_are_not_calendlys_json_are_unavailable() {
    let cases = [
        ResponseTemplate::new(500).set_body_json(calendly::error(500)),
        ResponseTemplate::new(502).set_body_string("<html>Bad Gateway</html>"),
        ResponseTemplate::new(503),
        ResponseTemplate::new(200).set_body_string("this is not JSON"),
        ResponseTemplate::new(200).set_body_json(json!({ "resource": { "uri": 7 } })),
        ResponseTemplate::new(403).set_body_string("<html>Forbidden by a proxy</html>"),
        ResponseTemplate::new(401).set_body_string(""),
    ];
    for response in cases {
        let server = MockServer::start().await;
        answer_users_me_with(&server, response).await;
        let error = client(&server, Duration::from_secs(5))
            .current_user(&token())
            .await
            .expect_err("unavailable");
        assert!(
            matches!(error, ProviderError::Unavailable { .. }),
            "{error:?}"
        );
    }
}

#[tokio::test]
async fn a_slow_answer_is_a_timeout() {
    let server = MockServer::start().await;
    answer_users_me_with(
        &server,
        ResponseTemplate::new(200)
            .set_body_json(calendly::users_me())
            .set_delay(Duration::from_secs(3)),
    )
    .await;

    // The one test of the deadline in real time, with generous bounds: the call gives up at
    // 200 ms and must not have waited for the answer at 3 s.
    let started = std::time::Instant::now();
    let error = client(&server, Duration::from_millis(200))
        .current_user(&token())
        .await
        .expect_err("too slow");
    assert!(matches!(error, ProviderError::Timeout), "{error:?}");
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn a_refused_connection_is_unavailable() {
    let server = MockServer::start().await;
    let client = client(&server, Duration::from_secs(5));
    drop(server);

    let error = client.current_user(&token()).await.expect_err("refused");
    assert!(
        matches!(error, ProviderError::Unavailable { .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn errors_never_show_the_token() {
    let server = MockServer::start().await;
    answer_users_me_with(&server, ResponseTemplate::new(500)).await;
    let error = client(&server, Duration::from_secs(5))
        .current_user(&token())
        .await
        .expect_err("failed");
    assert!(!format!("{error} {error:?}").contains(TOKEN));
}

/// `/users/me` answers `status` the first `times` times, then the documented user.
async fn failing_then_answering(server: &MockServer, status: u16, times: u64) {
    Mock::given(method("GET"))
        .and(path("/users/me"))
        .respond_with(ResponseTemplate::new(status))
        .up_to_n_times(times)
        .mount(server)
        .await;
    answer_users_me_with(
        server,
        ResponseTemplate::new(200).set_body_json(calendly::users_me()),
    )
    .await;
}

async fn calls(server: &MockServer) -> usize {
    server.received_requests().await.unwrap_or_default().len()
}

#[tokio::test]
async fn a_502_503_or_504_is_tried_once_more_and_may_then_succeed() {
    for status in [502, 503, 504] {
        let server = MockServer::start().await;
        failing_then_answering(&server, status, 1).await;
        let user = client(&server, Duration::from_secs(5))
            .current_user(&token())
            .await
            .expect("the retry succeeds");
        assert_eq!(user.uri, user_uri());
        assert_eq!(calls(&server).await, 2, "{status}");
    }
}

#[tokio::test]
async fn a_call_is_retried_once_at_most_and_a_500_not_at_all() {
    let server = MockServer::start().await;
    answer_users_me_with(&server, ResponseTemplate::new(503)).await;
    let error = client(&server, Duration::from_secs(5))
        .current_user(&token())
        .await
        .expect_err("still failing");
    assert!(
        matches!(error, ProviderError::Unavailable { .. }),
        "{error:?}"
    );
    assert_eq!(calls(&server).await, 2);

    let server = MockServer::start().await;
    answer_users_me_with(&server, ResponseTemplate::new(500)).await;
    client(&server, Duration::from_secs(5))
        .current_user(&token())
        .await
        .expect_err("failing");
    assert_eq!(calls(&server).await, 1);
}

#[tokio::test]
async fn no_retry_is_made_when_the_deadline_leaves_no_time_for_it() {
    let server = MockServer::start().await;
    answer_users_me_with(
        &server,
        ResponseTemplate::new(503).set_delay(Duration::from_millis(700)),
    )
    .await;
    let error = client(&server, Duration::from_millis(1000))
        .current_user(&token())
        .await
        .expect_err("failing");
    assert!(
        matches!(error, ProviderError::Unavailable { .. }),
        "{error:?}"
    );
    assert_eq!(calls(&server).await, 1);
}

#[tokio::test]
async fn a_body_that_stops_half_way_is_unavailable_after_one_retry() {
    let (address, connections) = calendly::cutting_answers_short().await;
    let client = client_with(
        &address,
        Duration::from_secs(5),
        Arc::new(CircuitBreaker::new(0, Duration::ZERO)),
        None,
    );
    let error = client.current_user(&token()).await.expect_err("cut short");
    assert!(
        matches!(error, ProviderError::Unavailable { .. }),
        "{error:?}"
    );
    assert_eq!(connections.load(std::sync::atomic::Ordering::SeqCst), 2);
}

#[tokio::test]
async fn while_calendly_keeps_failing_calls_are_refused_at_once_then_tried_again() {
    let server = MockServer::start().await;
    failing_then_answering(&server, 500, 3).await;
    let circuit = Arc::new(CircuitBreaker::new(3, Duration::from_millis(300)));
    let client = client_with(&server.uri(), Duration::from_secs(5), circuit, None);
    for _ in 0..3 {
        client.current_user(&token()).await.expect_err("500");
    }
    let error = client.current_user(&token()).await.expect_err("open");
    assert!(
        matches!(error, ProviderError::Unavailable { .. }),
        "{error:?}"
    );
    assert_eq!(calls(&server).await, 3, "no call while open");

    tokio::time::sleep(Duration::from_millis(350)).await;
    client
        .current_user(&token())
        .await
        .expect("the trial call succeeds");
    client.current_user(&token()).await.expect("closed again");
    assert_eq!(calls(&server).await, 5);
}

#[derive(Debug, Default)]
struct Recorded(Mutex<Vec<(&'static str, CallOutcome)>>);

impl CallObserver for Recorded {
    fn observe(&self, endpoint: &'static str, outcome: CallOutcome, _elapsed: Duration) {
        self.0.lock().expect("lock").push((endpoint, outcome));
    }
}

#[tokio::test]
async fn every_call_and_retry_is_reported_to_the_observer() {
    let server = MockServer::start().await;
    failing_then_answering(&server, 502, 1).await;
    let recorded = Arc::new(Recorded::default());
    let client = client_with(
        &server.uri(),
        Duration::from_secs(5),
        Arc::new(CircuitBreaker::new(0, Duration::ZERO)),
        Some(Arc::clone(&recorded) as Arc<dyn CallObserver>),
    );
    client.current_user(&token()).await.expect("user");
    assert_eq!(
        *recorded.0.lock().expect("lock"),
        [
            ("/users/me", CallOutcome::Status(502)),
            ("/users/me", CallOutcome::Status(200))
        ]
    );
}
