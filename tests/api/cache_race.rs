//! Event types are remembered by the Calendly account they belong to: a question asked after
//! the user connected another account never joins a load still in flight for the old one.

use std::sync::Mutex;
use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DurationRound, SecondsFormat, TimeDelta, Utc};
use serde_json::json;
use test_support::calendly;
use tokio::sync::Notify;

use crate::helpers::{TestApp, USER, own_calendly};

const ACCOUNT_A: &str = "https://api.calendly.com/users/A";
const ACCOUNT_B: &str = "https://api.calendly.com/users/B";
const EVENT_TYPE_A: &str = "https://api.calendly.com/event_types/A1";
const EVENT_TYPE_B: &str = "https://api.calendly.com/event_types/B1";

/// A Calendly with two accounts: token `token-of-a` is account A, `token-of-b` account B.
/// A's event types are held until B's are asked for, or for 1 s if they never are (less than
/// the gateway's Calendly deadline of 2 s in these tests).
#[derive(Default)]
struct TwoAccounts {
    a_event_types_in_flight: Notify,
    b_event_types_asked: Notify,
    /// Every available-times question: its token and event type.
    asked: Mutex<Vec<(String, String)>>,
}

fn bearer(request: &HttpRequest) -> String {
    request
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default()
        .to_owned()
}

async fn users_me(request: HttpRequest) -> HttpResponse {
    let mut user = calendly::users_me();
    user["resource"]["uri"] = json!(match bearer(&request).as_str() {
        "token-of-a" => ACCOUNT_A,
        _ => ACCOUNT_B,
    });
    HttpResponse::Ok().json(user)
}

async fn event_types(request: HttpRequest, state: web::Data<TwoAccounts>) -> HttpResponse {
    let uri = if bearer(&request) == "token-of-a" {
        state.a_event_types_in_flight.notify_one();
        let _ = tokio::time::timeout(Duration::from_secs(1), state.b_event_types_asked.notified())
            .await;
        EVENT_TYPE_A
    } else {
        state.b_event_types_asked.notify_one();
        EVENT_TYPE_B
    };
    HttpResponse::Ok().json(calendly::event_types_page(
        &[calendly::event_type(uri, "Meeting")],
        None,
    ))
}

async fn available_times(
    request: HttpRequest,
    query: web::Query<std::collections::HashMap<String, String>>,
    state: web::Data<TwoAccounts>,
) -> HttpResponse {
    let event_type = query.get("event_type").cloned().unwrap_or_default();
    state
        .asked
        .lock()
        .expect("lock")
        .push((bearer(&request), event_type));
    HttpResponse::Ok().json(calendly::available_times(&[]))
}

/// Starts the two-account Calendly: its address and state.
fn two_accounts() -> (String, web::Data<TwoAccounts>) {
    let state = web::Data::new(TwoAccounts::default());
    let shared = state.clone();
    let address = own_calendly(move |config| {
        config
            .app_data(shared.clone())
            .route("/users/me", web::get().to(users_me))
            .route("/event_types", web::get().to(event_types))
            .route(
                "/event_type_available_times",
                web::get().to(available_times),
            );
    });
    (address, state)
}

async fn connect(app: &TestApp, token: &str) {
    let response = app
        .put_connection_as(USER, &json!({ "personal_access_token": token }))
        .await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn a_load_for_the_old_account_is_never_joined_after_connecting_another() {
    let (calendly, state) = two_accounts();
    let app = TestApp::spawn_with(|settings| settings.calendly.api_base_url = calendly).await;
    connect(&app, "token-of-a").await;
    let start = (Utc::now() + TimeDelta::days(2))
        .duration_trunc(TimeDelta::days(1))
        .expect("truncates");
    let at = |t: chrono::DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Secs, true);
    let check = format!(
        "/calendly/check-availability?start_time={}&end_time={}",
        at(start),
        at(start + TimeDelta::days(7))
    );

    let first = app.get(&check);
    let second = async {
        // While A's event types are being loaded, the user connects account B.
        state.a_event_types_in_flight.notified().await;
        connect(&app, "token-of-b").await;
        app.get(&check).await
    };
    let (first, second) = tokio::join!(first, second);

    assert_eq!(
        (first.status().as_u16(), second.status().as_u16()),
        (200, 200)
    );
    let asked = state.asked.lock().expect("lock").clone();
    assert_eq!(asked.len(), 2, "{asked:?}");
    for (token, event_type) in &asked {
        let expected = if token == "token-of-a" {
            EVENT_TYPE_A
        } else {
            EVENT_TYPE_B
        };
        assert_eq!(
            event_type, expected,
            "{token} was sent with another account's event type"
        );
    }
}
