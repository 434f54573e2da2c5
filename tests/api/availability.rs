//! `GET /calendly/check-availability`.

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Value, json};
use test_support::calendly;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::{
    TestApp, assert_error, assert_not_connected, calendly_time, days_ahead, json_of,
};

const E1: &str = "https://api.calendly.com/event_types/E1";
const E2: &str = "https://api.calendly.com/event_types/E2";

fn query(start: DateTime<Utc>, end: DateTime<Utc>) -> String {
    format!(
        "/calendly/check-availability?start_time={}&end_time={}",
        start.format("%Y-%m-%dT%H:%M:%SZ"),
        end.format("%Y-%m-%dT%H:%M:%SZ")
    )
}

async fn connected_with_event_types(uris: &[&str]) -> TestApp {
    let app = TestApp::spawn().await;
    app.connect().await;
    let event_types: Vec<Value> = uris
        .iter()
        .map(|uri| calendly::event_type(uri, "Meeting"))
        .collect();
    app.calendly_has_event_types(&event_types).await;
    app
}

async fn calendly_offers(app: &TestApp, event_type: &str, start: DateTime<Utc>, times: &[Value]) {
    Mock::given(method("GET"))
        .and(path("/event_type_available_times"))
        .and(query_param("event_type", event_type))
        .and(query_param("start_time", calendly_time(start).as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(calendly::available_times(times)))
        .mount(&app.calendly)
        .await;
}

#[tokio::test]
async fn the_first_event_types_times_are_returned_as_calendly_wrote_them() {
    let app = connected_with_event_types(&[E1, E2]).await;
    let (start, end) = (days_ahead(3), days_ahead(10));
    let mut times: Vec<Value> = [10, 34, 58]
        .iter()
        .map(|h| calendly::available_time(&calendly_time(start + TimeDelta::hours(*h))))
        .collect();
    times[1]["a_field_calendly_added_later"] = json!([1, 2]);
    calendly_offers(&app, E1, start, &times).await;

    let (status, body) = json_of(app.get(&query(start, end)).await).await;

    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({ "collection": times }));
    let asked = app.calendly_requests("/event_type_available_times").await;
    assert_eq!(asked.len(), 1);
    let params: Vec<(String, String)> = asked[0].url.query_pairs().into_owned().collect();
    assert!(
        params.contains(&("end_time".into(), calendly_time(end))),
        "{params:?}"
    );
}

#[tokio::test]
async fn without_an_event_type_the_first_active_one_is_used() {
    let app = TestApp::spawn().await;
    app.connect().await;
    let mut inactive = calendly::event_type(E1, "Retired");
    inactive["active"] = json!(false);
    app.calendly_has_event_types(&[inactive, calendly::event_type(E2, "Intro")])
        .await;
    let (start, end) = (days_ahead(3), days_ahead(4));
    let time = calendly::available_time(&calendly_time(start + TimeDelta::hours(9)));
    calendly_offers(&app, E2, start, std::slice::from_ref(&time)).await;

    let (status, body) = json_of(app.get(&query(start, end)).await).await;
    assert_eq!((status, body), (200, json!({ "collection": [time] })));

    // None active: nothing to check.
    let app = TestApp::spawn().await;
    app.connect().await;
    let mut inactive = calendly::event_type(E1, "Retired");
    inactive["active"] = json!(false);
    app.calendly_has_event_types(&[inactive]).await;
    assert_error(app.get(&query(start, end)).await, 404, "no_event_types").await;
}

#[tokio::test]
async fn the_event_type_asked_for_is_used() {
    let app = connected_with_event_types(&[E1, E2]).await;
    let (start, end) = (days_ahead(3), days_ahead(4));
    let time = calendly::available_time(&calendly_time(start + TimeDelta::hours(9)));
    calendly_offers(&app, E2, start, std::slice::from_ref(&time)).await;

    let path = format!("{}&event_type={E2}", query(start, end));
    let (status, body) = json_of(app.get(&path).await).await;

    assert_eq!((status, body), (200, json!({ "collection": [time] })));
}

#[tokio::test]
async fn an_event_type_that_is_not_the_users_is_404() {
    let app = connected_with_event_types(&[E1]).await;
    let path = format!(
        "{}&event_type=https://api.calendly.com/event_types/SOMEONE_ELSES",
        query(days_ahead(3), days_ahead(4))
    );
    assert_error(app.get(&path).await, 404, "event_type_not_found").await;
    assert!(
        app.calendly_requests("/event_type_available_times")
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn a_user_without_event_types_is_404() {
    let app = connected_with_event_types(&[]).await;
    assert_error(
        app.get(&query(days_ahead(3), days_ahead(4))).await,
        404,
        "no_event_types",
    )
    .await;
}

#[tokio::test]
async fn a_user_without_connection_is_404() {
    let app = TestApp::spawn().await;
    assert_not_connected(app.get(&query(days_ahead(3), days_ahead(4))).await).await;
}

#[tokio::test]
async fn missing_parameters_are_422_and_bad_ones_400() {
    let app = connected_with_event_types(&[E1]).await;
    let (start, end) = ("2031-01-01T00:00:00Z", "2031-01-02T00:00:00Z");
    let cases = [
        (format!("end_time={end}"), 422, "missing_parameter"),
        (format!("start_time={start}"), 422, "missing_parameter"),
        (String::new(), 422, "missing_parameter"),
        (
            format!("start_time=tomorrow&end_time={end}"),
            400,
            "invalid_parameter",
        ),
        (
            format!("start_time={start}&end_time=2031-02-30T00:00:00Z"),
            400,
            "invalid_parameter",
        ),
        (
            format!("start_time=&end_time={end}"),
            400,
            "invalid_parameter",
        ),
        (
            format!("start_time={end}&end_time={start}"),
            400,
            "invalid_parameter",
        ),
        (
            format!("start_time={start}&end_time={start}"),
            400,
            "invalid_parameter",
        ),
        (
            "start_time=2031-01-01T00:00:00Z&end_time=2032-01-01T00:00:01Z".to_owned(),
            400,
            "invalid_parameter",
        ),
        (
            format!("start_time={start}&start_time={start}&end_time={end}"),
            400,
            "invalid_parameter",
        ),
        (
            format!("start_time={start}&end_time={end}&event_type="),
            400,
            "invalid_parameter",
        ),
    ];
    for (params, status, code) in cases {
        let response = app
            .get(&format!("/calendly/check-availability?{params}"))
            .await;
        assert_error(response, status, code).await;
    }
    assert!(
        app.calendly_requests("/event_type_available_times")
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn a_range_over_the_configured_limit_is_400() {
    let app = TestApp::spawn_with(|s| s.limits.max_range_days = 10).await;
    app.connect().await;
    let detail = assert_error(
        app.get(&query(days_ahead(3), days_ahead(14))).await,
        400,
        "invalid_parameter",
    )
    .await;
    assert!(
        detail.as_str().is_some_and(|d| d.contains("10 days")),
        "{detail}"
    );
}

#[tokio::test]
async fn a_long_range_is_split_into_calls_calendly_accepts_and_merged() {
    let app = connected_with_event_types(&[E1]).await;
    let start = days_ahead(2);
    let end = start + TimeDelta::days(70);
    let pieces = [
        start,
        start + TimeDelta::days(31),
        start + TimeDelta::days(62),
    ];
    let at = |time: DateTime<Utc>| calendly::available_time(&calendly_time(time));
    // Each piece answers out of order, and the second repeats a time of the first.
    calendly_offers(
        &app,
        E1,
        pieces[0],
        &[
            at(pieces[0] + TimeDelta::days(3)),
            at(pieces[0] + TimeDelta::hours(1)),
        ],
    )
    .await;
    calendly_offers(
        &app,
        E1,
        pieces[1],
        &[
            at(pieces[1] + TimeDelta::hours(2)),
            at(pieces[0] + TimeDelta::days(3)),
        ],
    )
    .await;
    calendly_offers(&app, E1, pieces[2], &[at(pieces[2] + TimeDelta::days(7))]).await;

    let (status, body) = json_of(app.get(&query(start, end)).await).await;

    assert_eq!(status, 200, "{body}");
    let expected = [
        pieces[0] + TimeDelta::hours(1),
        pieces[0] + TimeDelta::days(3),
        pieces[1] + TimeDelta::hours(2),
        pieces[2] + TimeDelta::days(7),
    ];
    assert_eq!(
        body,
        json!({ "collection": expected.iter().map(|t| at(*t)).collect::<Vec<_>>() })
    );

    let mut ranges: Vec<(String, String)> = app
        .calendly_requests("/event_type_available_times")
        .await
        .iter()
        .map(|r| {
            let param = |name: &str| {
                r.url
                    .query_pairs()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v.into_owned())
                    .expect("param")
            };
            (param("start_time"), param("end_time"))
        })
        .collect();
    ranges.sort();
    assert_eq!(
        ranges,
        [
            (calendly_time(pieces[0]), calendly_time(pieces[1])),
            (calendly_time(pieces[1]), calendly_time(pieces[2])),
            (calendly_time(pieces[2]), calendly_time(end)),
        ]
    );
}

/// This test's Calendly refuses a start already past when it reads it, as Calendly does
/// (`helpers::TestApp`); the gateway moves a past start far enough ahead for that.
#[tokio::test]
async fn a_start_in_the_past_is_moved_ahead_far_enough_for_calendly() {
    let app = connected_with_event_types(&[E1]).await;
    Mock::given(method("GET"))
        .and(path("/event_type_available_times"))
        .respond_with(ResponseTemplate::new(200).set_body_json(calendly::available_times(&[])))
        .expect(1)
        .mount(&app.calendly)
        .await;
    let before = Utc::now();

    let (status, body) = json_of(
        app.get(&query(Utc::now() - TimeDelta::days(2), days_ahead(2)))
            .await,
    )
    .await;
    let after = Utc::now();

    assert_eq!((status, body), (200, json!({ "collection": [] })));
    let asked = app.calendly_requests("/event_type_available_times").await;
    let start = asked[0]
        .url
        .query_pairs()
        .find(|(k, _)| k == "start_time")
        .map(|(_, v)| v.into_owned())
        .expect("start");
    let start = DateTime::parse_from_rfc3339(&start)
        .expect("RFC 3339")
        .to_utc();
    // One minute ahead: more than this test's Calendly deadline (2 s) plus 5 s of clock skew.
    let lead = TimeDelta::minutes(1);
    assert!(
        start >= before + lead && start <= after + lead,
        "{start} not a minute after {before}..{after}"
    );
}

#[tokio::test]
async fn a_range_wholly_in_the_past_has_no_times_and_costs_no_call() {
    let app = connected_with_event_types(&[E1]).await;
    let (status, body) = json_of(
        app.get(&query(
            Utc::now() - TimeDelta::days(5),
            Utc::now() - TimeDelta::days(1),
        ))
        .await,
    )
    .await;
    assert_eq!((status, body), (200, json!({ "collection": [] })));
    assert!(
        app.calendly_requests("/event_type_available_times")
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn times_with_offsets_are_accepted_and_sent_to_calendly_in_utc() {
    let app = connected_with_event_types(&[E1]).await;
    let start = days_ahead(3);
    calendly_offers(&app, E1, start, &[]).await;
    let local = (start + TimeDelta::hours(2)).format("%Y-%m-%dT%H:%M:%S");
    let end = days_ahead(4).format("%Y-%m-%dT%H:%M:%S");

    // An encoded '+', and an unencoded one, which a query string decodes to a space.
    for plus in ["%2B", "+"] {
        let path = format!(
            "/calendly/check-availability?start_time={local}{plus}02:00&end_time={end}-05:00"
        );
        let (status, body) = json_of(app.get(&path).await).await;
        assert_eq!((status, body), (200, json!({ "collection": [] })), "{plus}");
    }
}
