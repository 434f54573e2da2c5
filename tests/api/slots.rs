//! `GET /calendly/slots`: the answer's shape, and every bad input.

use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use serde_json::{Value, json};
use test_support::calendly;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::{TestApp, assert_error, days_ahead, json_of};

const E1: &str = "https://api.calendly.com/event_types/E1";
const E2: &str = "https://api.calendly.com/event_types/E2";

fn event_type(uri: &str, duration: Value, active: bool) -> Value {
    let mut event_type = calendly::event_type(uri, "Meeting");
    event_type["duration"] = duration;
    event_type["active"] = json!(active);
    event_type
}

async fn app_with(event_types: &[Value]) -> TestApp {
    let app = TestApp::spawn().await;
    app.connect().await;
    app.calendly_has_event_types(event_types).await;
    app
}

fn slots_path(start: DateTime<Utc>, end: DateTime<Utc>, extra: &str) -> String {
    format!(
        "/calendly/slots?start_time={}&end_time={}{extra}",
        start.format("%Y-%m-%dT%H:%M:%SZ"),
        end.format("%Y-%m-%dT%H:%M:%SZ")
    )
}

#[tokio::test]
async fn slots_of_several_event_types_by_local_day_with_their_ends() {
    let app = app_with(&[
        event_type(E1, json!(30), true),
        event_type(E2, json!(15), true),
    ])
    .await;
    let start = days_ahead(3);
    let nine = start + TimeDelta::hours(9);
    for uri in [E1, E2] {
        Mock::given(method("GET"))
            .and(path("/event_type_available_times"))
            .and(query_param("event_type", uri))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(calendly::available_times(&[
                    calendly::available_time(&nine.to_rfc3339_opts(SecondsFormat::Micros, true)),
                ])),
            )
            .mount(&app.calendly)
            .await;
    }
    let (status, body) = json_of(
        app.get(&slots_path(
            start,
            start + TimeDelta::days(1),
            "&timezone=Asia/Kolkata",
        ))
        .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let local = nine.with_timezone(&chrono_tz::Asia::Kolkata);
    let at = |minutes: i64| {
        (local + TimeDelta::minutes(minutes)).to_rfc3339_opts(SecondsFormat::AutoSi, false)
    };
    assert_eq!(body["timezone"], "Asia/Kolkata");
    assert_eq!(
        body["days"][0]["date"],
        json!(local.date_naive().to_string())
    );
    let slots = &body["days"][0]["slots"];
    assert_eq!(
        (
            slots[0]["event_type"].as_str(),
            slots[1]["event_type"].as_str()
        ),
        (Some(E1), Some(E2))
    );
    assert_eq!(
        (slots[0]["start"].clone(), slots[0]["end"].clone()),
        (json!(at(0)), json!(at(30)))
    );
    assert_eq!(slots[1]["end"], json!(at(15)));
    assert!(at(0).ends_with("+05:30"));
    let offered = calendly::available_time(&nine.to_rfc3339_opts(SecondsFormat::Micros, true));
    assert_eq!(
        slots[0]["invitees_remaining"],
        offered["invitees_remaining"]
    );
    assert_eq!(slots[0]["scheduling_url"], offered["scheduling_url"]);
}

#[tokio::test]
async fn bad_input_is_refused_with_its_error() {
    let app = app_with(&[
        event_type(E1, json!(30), true),
        event_type(E2, Value::Null, true),
    ])
    .await;
    let (start, end) = (days_ahead(3), days_ahead(4));
    for (extra, status, code) in [
        ("&timezone=Mars/Olympus", 400, "invalid_parameter"),
        ("&timezone=", 400, "invalid_parameter"),
        ("&timezone=%2B01:00", 400, "invalid_parameter"),
        ("&timezone=UTC&timezone=UTC", 400, "invalid_parameter"),
        (
            "&event_type=https://api.calendly.com/event_types/NOT-MINE",
            404,
            "event_type_not_found",
        ),
    ] {
        assert_error(app.get(&slots_path(start, end, extra)).await, status, code).await;
    }
    let eleven: String = (0..11)
        .map(|i| format!("&event_type=https://api.calendly.com/event_types/X{i}"))
        .collect();
    assert_error(
        app.get(&slots_path(start, end, &eleven)).await,
        400,
        "invalid_parameter",
    )
    .await;
    assert_error(
        app.get("/calendly/slots?end_time=2030-01-02T00:00:00Z")
            .await,
        422,
        "missing_parameter",
    )
    .await;
    assert_error(
        app.get("/calendly/slots?start_time=x&end_time=2030-01-02T00:00:00Z")
            .await,
        400,
        "invalid_parameter",
    )
    .await;
    assert_error(
        app.get(&slots_path(end, start, "")).await,
        400,
        "invalid_parameter",
    )
    .await;
    assert_error(
        app.get(&slots_path(start, start + TimeDelta::days(400), ""))
            .await,
        400,
        "invalid_parameter",
    )
    .await;
    // An event type Calendly gave no duration: no partial answer.
    let mine = format!("&event_type={E1}&event_type={E2}");
    assert_error(
        app.get(&slots_path(start, end, &mine)).await,
        502,
        "calendly_unavailable",
    )
    .await;
    assert!(
        app.calendly_requests("/event_type_available_times")
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn a_repeated_event_type_is_asked_once() {
    let app = app_with(&[event_type(E1, json!(30), true)]).await;
    Mock::given(method("GET"))
        .and(path("/event_type_available_times"))
        .respond_with(ResponseTemplate::new(200).set_body_json(calendly::available_times(&[])))
        .mount(&app.calendly)
        .await;
    let (start, end) = (days_ahead(3), days_ahead(5));
    let (status, body) = json_of(
        app.get(&slots_path(
            start,
            end,
            &format!("&event_type={E1}&event_type={E1}&timezone=UTC"),
        ))
        .await,
    )
    .await;
    assert_eq!(
        (status, body),
        (200, json!({ "timezone": "UTC", "days": [] }))
    );
    assert_eq!(
        app.calendly_requests("/event_type_available_times")
            .await
            .len(),
        1
    );
}

#[tokio::test]
async fn a_past_start_is_moved_ahead_and_the_users_zone_is_the_default() {
    let app = app_with(&[event_type(E1, json!(30), true)]).await;
    Mock::given(method("GET"))
        .and(path("/event_type_available_times"))
        .respond_with(ResponseTemplate::new(200).set_body_json(calendly::available_times(&[])))
        .mount(&app.calendly)
        .await;
    // From yesterday to two days ahead: Calendly is asked from about a minute from now.
    let (start, end) = (days_ahead(-1), days_ahead(2));
    let (status, body) = json_of(app.get(&slots_path(start, end, "")).await).await;
    // The documented user's zone, `America/New York`, read as America/New_York.
    assert_eq!(
        (status, body),
        (200, json!({ "timezone": "America/New_York", "days": [] }))
    );
    let calls = app.calendly_requests("/event_type_available_times").await;
    assert_eq!(calls.len(), 1);
    let asked: std::collections::HashMap<_, _> = calls[0].url.query_pairs().into_owned().collect();
    let from = DateTime::parse_from_rfc3339(&asked["start_time"]).expect("time");
    assert!(
        from > Utc::now() && from < Utc::now() + TimeDelta::minutes(2),
        "{from}"
    );
    // Wholly past: nothing asked.
    let (status, _) = json_of(
        app.get(&slots_path(days_ahead(-3), days_ahead(-2), ""))
            .await,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        app.calendly_requests("/event_type_available_times")
            .await
            .len(),
        1
    );
}
