//! The fast path: in steady state a check costs one Calendly call per piece of its range, and
//! listing event types costs none.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DurationRound, SecondsFormat, TimeDelta, Utc};
use serde_json::json;
use test_support::calendly;
use wiremock::matchers::{method, path};
use wiremock::{Mock, Request, Respond, ResponseTemplate};

use crate::helpers::{CALENDLY_TOKEN, TestApp, USER, json_of};

const E1: &str = "https://api.calendly.com/event_types/E1";

fn check(days: i64) -> String {
    let start = (Utc::now() + TimeDelta::days(2))
        .duration_trunc(TimeDelta::days(1))
        .expect("truncates");
    let end = start + TimeDelta::days(days);
    let at = |t: chrono::DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Secs, true);
    format!(
        "/calendly/check-availability?start_time={}&end_time={}",
        at(start),
        at(end)
    )
}

async fn connected_app() -> TestApp {
    let app = TestApp::spawn().await;
    app.connect().await;
    app.calendly_has_event_types(&[calendly::event_type(E1, "Meeting")])
        .await;
    Mock::given(method("GET"))
        .and(path("/event_type_available_times"))
        .respond_with(ResponseTemplate::new(200).set_body_json(calendly::available_times(&[])))
        .mount(&app.calendly)
        .await;
    app
}

async fn calls(app: &TestApp, at: &str) -> usize {
    app.calendly_requests(at).await.len()
}

#[tokio::test]
async fn in_steady_state_a_check_costs_one_calendly_call_per_piece() {
    let app = connected_app().await;
    assert_eq!(app.get(&check(7)).await.status(), 200, "warm-up");
    assert_eq!(calls(&app, "/event_types").await, 1);

    for _ in 0..5 {
        assert_eq!(app.get(&check(7)).await.status(), 200);
    }
    assert_eq!(
        calls(&app, "/event_types").await,
        1,
        "event types are remembered"
    );
    assert_eq!(
        calls(&app, "/event_type_available_times").await,
        6,
        "one call per 7-day check"
    );

    assert_eq!(app.get(&check(90)).await.status(), 200);
    assert_eq!(
        calls(&app, "/event_type_available_times").await,
        9,
        "90 days are three pieces"
    );
    assert_eq!(calls(&app, "/users/me").await, 1, "only when connecting");
}

#[tokio::test]
async fn listing_event_types_again_costs_no_calendly_call() {
    let app = connected_app().await;
    let (_, first) = json_of(app.get("/calendly/user-event-types").await).await;
    for _ in 0..3 {
        let (status, again) = json_of(app.get("/calendly/user-event-types").await).await;
        assert_eq!((status, &again), (200, &first));
    }
    assert_eq!(calls(&app, "/event_types").await, 1);
    let (status, _) = json_of(app.get("/calendly/user").await).await;
    assert_eq!(status, 200);
    assert_eq!(
        calendly_total(&app).await,
        2,
        "one /users/me at connect, one /event_types"
    );
}

async fn calendly_total(app: &TestApp) -> usize {
    app.calendly
        .received_requests()
        .await
        .unwrap_or_default()
        .len()
}

#[tokio::test]
async fn connecting_again_or_disconnecting_drops_the_remembered_event_types() {
    let app = connected_app().await;
    app.get("/calendly/user-event-types").await;
    assert_eq!(calls(&app, "/event_types").await, 1);

    let again = app
        .put_connection_as(USER, &json!({ "personal_access_token": CALENDLY_TOKEN }))
        .await;
    assert_eq!(again.status(), 200);
    app.get("/calendly/user-event-types").await;
    assert_eq!(
        calls(&app, "/event_types").await,
        2,
        "reconnecting drops them"
    );

    app.client
        .delete(app.url("/calendly/connection"))
        .bearer_auth(app.token(USER))
        .send()
        .await
        .expect("sent");
    app.connect().await;
    app.get("/calendly/user-event-types").await;
    assert_eq!(
        calls(&app, "/event_types").await,
        3,
        "disconnecting drops them"
    );
}

/// Answers after `delay`, noting when each request arrived.
struct SlowAvailability {
    delay: Duration,
    arrivals: Arc<Mutex<Vec<Instant>>>,
}

impl Respond for SlowAvailability {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        self.arrivals.lock().expect("lock").push(Instant::now());
        ResponseTemplate::new(200)
            .set_body_json(calendly::available_times(&[]))
            .set_delay(self.delay)
    }
}

const SLOW: Duration = Duration::from_millis(400);

/// A connected gateway, allowed `max_concurrent` pieces in flight, whose Calendly answers
/// availability after `SLOW`; and when each of those requests arrived.
async fn slow_availability(max_concurrent: usize) -> (TestApp, Arc<Mutex<Vec<Instant>>>) {
    let app =
        TestApp::spawn_with(|s| s.calendly.max_concurrent_calls_per_request = max_concurrent).await;
    app.connect().await;
    app.calendly_has_event_types(&[calendly::event_type(E1, "Meeting")])
        .await;
    let arrivals = Arc::new(Mutex::new(Vec::new()));
    Mock::given(method("GET"))
        .and(path("/event_type_available_times"))
        .respond_with(SlowAvailability {
            delay: SLOW,
            arrivals: Arc::clone(&arrivals),
        })
        .mount(&app.calendly)
        .await;
    (app, arrivals)
}

#[tokio::test]
async fn the_pieces_of_a_long_range_are_asked_for_at_once() {
    let (app, arrivals) = slow_availability(4).await;

    assert_eq!(app.get(&check(90)).await.status(), 200);

    let arrivals = arrivals.lock().expect("lock").clone();
    assert_eq!(arrivals.len(), 3);
    let spread = arrivals
        .iter()
        .max()
        .expect("some")
        .duration_since(*arrivals.iter().min().expect("some"));
    // One after another, each piece would arrive only once the previous had been answered.
    assert!(spread < SLOW / 2, "pieces asked for {spread:?} apart");
}

#[tokio::test]
async fn no_more_pieces_are_in_flight_than_configured() {
    let (app, arrivals) = slow_availability(2).await;

    assert_eq!(app.get(&check(120)).await.status(), 200);

    let mut arrivals = arrivals.lock().expect("lock").clone();
    arrivals.sort();
    assert_eq!(arrivals.len(), 4, "120 days are four pieces");
    // Two at once, then the next two once those were answered.
    assert!(arrivals[1].duration_since(arrivals[0]) < SLOW / 2);
    assert!(arrivals[2].duration_since(arrivals[0]) >= SLOW / 2);
}
