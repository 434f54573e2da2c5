//! The fast path: in steady state a check costs one Calendly call per piece of its range, and
//! listing event types costs none.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use actix_web::{HttpResponse, web};

use chrono::{DurationRound, SecondsFormat, TimeDelta, Utc};
use serde_json::json;
use test_support::calendly;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::{CALENDLY_TOKEN, TestApp, USER, json_of, own_calendly};

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

/// A Calendly that holds each availability question until `together` are in flight at once, or
/// every one of `pieces` has arrived (or, if neither happens, for 1 s: less than the gateway's
/// deadline of 2 s in these tests), and notes the most it saw in flight at once.
#[derive(Debug)]
struct HeldAvailability {
    together: usize,
    pieces: usize,
    arrived: AtomicUsize,
    in_flight: AtomicUsize,
    most_in_flight: AtomicUsize,
}

async fn held_availability(state: web::Data<HeldAvailability>) -> HttpResponse {
    state.arrived.fetch_add(1, Ordering::SeqCst);
    let in_flight = state.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    state.most_in_flight.fetch_max(in_flight, Ordering::SeqCst);
    let released = || {
        state.in_flight.load(Ordering::SeqCst) >= state.together
            || state.arrived.load(Ordering::SeqCst) >= state.pieces
    };
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        while !released() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    state.in_flight.fetch_sub(1, Ordering::SeqCst);
    HttpResponse::Ok().json(calendly::available_times(&[]))
}

/// A connected gateway, allowed `max_concurrent` pieces in flight, on a Calendly that holds
/// availability questions (see [`HeldAvailability`]).
async fn held(
    max_concurrent: usize,
    together: usize,
    pieces: usize,
) -> (TestApp, web::Data<HeldAvailability>) {
    let state = web::Data::new(HeldAvailability {
        together,
        pieces,
        arrived: AtomicUsize::new(0),
        in_flight: AtomicUsize::new(0),
        most_in_flight: AtomicUsize::new(0),
    });
    let shared = state.clone();
    let calendly = own_calendly(move |config| {
        config
            .app_data(shared.clone())
            .route(
                "/users/me",
                web::get().to(|| async { HttpResponse::Ok().json(calendly::users_me()) }),
            )
            .route(
                "/event_types",
                web::get().to(|| async {
                    HttpResponse::Ok().json(calendly::event_types_page(
                        &[calendly::event_type(E1, "Meeting")],
                        None,
                    ))
                }),
            )
            .route(
                "/event_type_available_times",
                web::get().to(held_availability),
            );
    });
    let app = TestApp::spawn_with(|s| {
        s.calendly.api_base_url = calendly;
        s.calendly.max_concurrent_calls_per_request = max_concurrent;
    })
    .await;
    let response = app
        .put_connection_as(USER, &json!({ "personal_access_token": CALENDLY_TOKEN }))
        .await;
    assert_eq!(response.status(), 200);
    (app, state)
}

#[tokio::test]
async fn the_pieces_of_a_long_range_are_asked_for_at_once() {
    // 90 days are three pieces; one after another, Calendly would never see them together.
    let (app, calendly) = held(4, 3, 3).await;

    assert_eq!(app.get(&check(90)).await.status(), 200);

    assert_eq!(calendly.arrived.load(Ordering::SeqCst), 3);
    assert_eq!(calendly.most_in_flight.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn no_more_pieces_are_in_flight_than_configured() {
    // 120 days are four pieces: two at once, then the next two.
    let (app, calendly) = held(2, 2, 4).await;

    assert_eq!(app.get(&check(120)).await.status(), 200);

    assert_eq!(calendly.arrived.load(Ordering::SeqCst), 4);
    assert_eq!(calendly.most_in_flight.load(Ordering::SeqCst), 2);
}
