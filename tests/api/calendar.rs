//! `GET /calendly/busy-times` and `GET /calendly/availability-schedules`.

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Value, json};
use test_support::calendly;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::{
    TestApp, assert_error, assert_not_connected, calendly_time, days_ahead, json_of,
};

fn busy_query(start: DateTime<Utc>, end: DateTime<Utc>) -> String {
    format!(
        "/calendly/busy-times?start_time={}&end_time={}",
        start.format("%Y-%m-%dT%H:%M:%SZ"),
        end.format("%Y-%m-%dT%H:%M:%SZ")
    )
}

/// A busy time as Calendly writes one, with a field the gateway does not know.
fn busy(start: DateTime<Utc>, minutes: i64, kind: &str) -> Value {
    json!({
        "type": kind,
        "start_time": calendly_time(start),
        "end_time": calendly_time(start + TimeDelta::minutes(minutes)),
        "buffered_start_time": calendly_time(start - TimeDelta::minutes(15)),
        "event": { "uri": format!("https://api.calendly.com/scheduled_events/{}", start.timestamp()) },
        "a_field_added_later": [1, 2]
    })
}

/// Calendly answers the call starting at `start` with `times`.
async fn calendly_busy(app: &TestApp, start: DateTime<Utc>, times: &[Value]) {
    Mock::given(method("GET"))
        .and(path("/user_busy_times"))
        .and(query_param("user", calendly::user_uri().as_str()))
        .and(query_param("start_time", calendly_time(start).as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "collection": times })))
        .mount(&app.calendly)
        .await;
}

#[tokio::test]
async fn a_long_range_is_asked_a_week_at_a_time_and_merged_sorted_each_once() {
    let app = TestApp::spawn().await;
    app.connect().await;
    let start = days_ahead(2);
    let (second, third) = (start + TimeDelta::days(7), start + TimeDelta::days(14));
    // An event across the first boundary, reported by both calls; an external event at the
    // same start as a Calendly one (both kept).
    let across = busy(second - TimeDelta::minutes(30), 60, "calendly");
    let late = busy(third + TimeDelta::hours(10), 30, "calendly");
    let external = busy(third + TimeDelta::hours(10), 60, "external");
    let early = busy(start + TimeDelta::hours(9), 30, "calendly");
    calendly_busy(&app, start, &[early.clone(), across.clone()]).await;
    calendly_busy(&app, second, std::slice::from_ref(&across)).await;
    calendly_busy(&app, third, &[late.clone(), external.clone()]).await;

    let (status, body) = json_of(
        app.get(&busy_query(start, start + TimeDelta::days(16)))
            .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let mut expected_late = [late, external];
    expected_late.sort_by_key(Value::to_string);
    assert_eq!(
        body,
        json!({ "collection": [early, across, expected_late[0], expected_late[1]] })
    );
    let calls = app.calendly_requests("/user_busy_times").await;
    assert_eq!(calls.len(), 3);
    for call in calls {
        let query: std::collections::HashMap<_, _> = call.url.query_pairs().into_owned().collect();
        let from = DateTime::parse_from_rfc3339(&query["start_time"]).expect("time");
        let to = DateTime::parse_from_rfc3339(&query["end_time"]).expect("time");
        assert!(to - from <= TimeDelta::days(7), "{query:?}");
    }
}

#[tokio::test]
async fn busy_times_refuse_bad_ranges_and_need_a_connection() {
    let app = TestApp::spawn().await;
    let start = days_ahead(2);
    assert_not_connected(
        app.get(&busy_query(start, start + TimeDelta::days(1)))
            .await,
    )
    .await;
    app.connect().await;
    assert_error(
        app.get("/calendly/busy-times?end_time=2030-01-02T00:00:00Z")
            .await,
        422,
        "missing_parameter",
    )
    .await;
    assert_error(
        app.get("/calendly/busy-times?start_time=2030-01-02T00:00:00Z")
            .await,
        422,
        "missing_parameter",
    )
    .await;
    assert_error(
        app.get("/calendly/busy-times?start_time=soon&end_time=2030-01-02T00:00:00Z")
            .await,
        400,
        "invalid_parameter",
    )
    .await;
    assert_error(
        app.get(&busy_query(start, start)).await,
        400,
        "invalid_parameter",
    )
    .await;
    assert_error(
        app.get(&busy_query(start, start + TimeDelta::days(366)))
            .await,
        400,
        "invalid_parameter",
    )
    .await;
    // Wholly past: nothing to ask.
    let (status, body) = json_of(app.get(&busy_query(days_ahead(-9), days_ahead(-2))).await).await;
    assert_eq!((status, body), (200, json!({ "collection": [] })));
    assert!(app.calendly_requests("/user_busy_times").await.is_empty());
}

#[tokio::test]
async fn calendly_failing_a_piece_fails_the_whole_answer() {
    let app = TestApp::spawn().await;
    app.connect().await;
    let start = days_ahead(2);
    calendly_busy(
        &app,
        start,
        &[busy(start + TimeDelta::hours(9), 30, "calendly")],
    )
    .await;
    Mock::given(method("GET"))
        .and(path("/user_busy_times"))
        .respond_with(ResponseTemplate::new(500))
        .with_priority(10)
        .mount(&app.calendly)
        .await;
    assert_error(
        app.get(&busy_query(start, start + TimeDelta::days(10)))
            .await,
        502,
        "calendly_unavailable",
    )
    .await;
}

#[tokio::test]
async fn availability_schedules_are_calendlys_as_it_wrote_them() {
    let app = TestApp::spawn().await;
    assert_not_connected(app.get("/calendly/availability-schedules").await).await;
    app.connect().await;
    let schedules = json!([{
        "uri": "https://api.calendly.com/user_availability_schedule/abc123",
        "default": true,
        "name": "Working Hours",
        "user": calendly::user_uri(),
        "timezone": "America/New_York",
        "rules": [{ "type": "wday", "intervals": [{ "from": "08:30", "to": "09:30" }], "wday": "sunday" }],
        "a_field_added_later": { "x": 1 }
    }]);
    Mock::given(method("GET"))
        .and(path("/user_availability_schedules"))
        .and(query_param("user", calendly::user_uri().as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "collection": schedules })))
        .mount(&app.calendly)
        .await;
    let (status, body) = json_of(app.get("/calendly/availability-schedules").await).await;
    assert_eq!((status, body), (200, json!({ "collection": schedules })));
}
