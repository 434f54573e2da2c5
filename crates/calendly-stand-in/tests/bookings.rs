//! The stand-in's booking API, as strict as Calendly's: `POST /invitees` with its checks and
//! its own limits, scheduled events read back and cancelled.

use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use serde_json::{Value, json};

mod support;
use support::{StandIn, client, get, user_uri};

const TOKEN: &str = "booking-host";

/// The event type `index` of the host.
async fn event_type(stand_in: &StandIn, index: usize) -> String {
    user_uri(stand_in, TOKEN)
        .await
        .replace("/users/", "/event_types/")
        + &format!("-{index}")
}

/// The available times of `event_type` from tomorrow for a week: each start and seats left.
async fn offered(stand_in: &StandIn, event_type: &str) -> Vec<(String, u64)> {
    let start = (Utc::now() + TimeDelta::days(1)).to_rfc3339_opts(SecondsFormat::Secs, true);
    let end = (Utc::now() + TimeDelta::days(8)).to_rfc3339_opts(SecondsFormat::Secs, true);
    let (status, body) = get(
        stand_in,
        TOKEN,
        "/event_type_available_times",
        &[
            ("event_type", event_type),
            ("start_time", &start),
            ("end_time", &end),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["collection"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|t| {
            let start = t["start_time"].as_str().expect("start");
            let start = DateTime::parse_from_rfc3339(start).expect("time").to_utc();
            (
                start.to_rfc3339_opts(SecondsFormat::Secs, true),
                t["invitees_remaining"].as_u64().expect("seats"),
            )
        })
        .collect()
}

/// A booking body of `event_type` at `start` that the first event type accepts.
fn booking(event_type: &str, start: &str) -> Value {
    json!({
        "event_type": event_type,
        "start_time": start,
        "invitee": {"name": "Ada Lovelace", "email": "ada@example.com", "timezone": "Europe/London"},
        "location": {"kind": "zoom_conference"},
        "questions_and_answers": [{"question": "What should we talk about?", "answer": "Engines", "position": 0}],
    })
}

/// POSTs `body` to `path` as `token`: status, `X-RateLimit-Remaining` and the JSON body.
async fn post(
    stand_in: &StandIn,
    token: &str,
    path: &str,
    body: &Value,
) -> (u16, Option<u64>, Value) {
    let response = client()
        .post(format!("{}{path}", stand_in.address))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .expect("sent");
    let status = response.status().as_u16();
    let remaining = response
        .headers()
        .get("x-ratelimit-remaining")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    (status, remaining, response.json().await.expect("json"))
}

/// The uuid at the end of a URI.
fn uuid_of(uri: &Value) -> String {
    uri.as_str()
        .expect("a uri")
        .rsplit('/')
        .next()
        .expect("uuid")
        .to_owned()
}

#[tokio::test]
async fn a_booking_takes_its_time_and_a_cancellation_gives_it_back() {
    let stand_in = StandIn::start();
    let first = event_type(&stand_in, 0).await;
    let times = offered(&stand_in, &first).await;
    let (start, seats) = times[0].clone();
    assert_eq!(seats, 1);

    let (status, _, booked) = post(&stand_in, TOKEN, "/invitees", &booking(&first, &start)).await;
    assert_eq!(status, 201, "{booked}");
    let invitee = &booked["resource"];
    assert_eq!(invitee["status"], "active");
    assert_eq!(invitee["email"], "ada@example.com");
    assert!(
        invitee["cancel_url"]
            .as_str()
            .is_some_and(|u| u.starts_with("https://"))
    );
    assert!(
        !offered(&stand_in, &first)
            .await
            .iter()
            .any(|(t, _)| *t == start),
        "taken"
    );

    let (status, _, again) = post(&stand_in, TOKEN, "/invitees", &booking(&first, &start)).await;
    assert_eq!(status, 400, "a taken time is Calendly's 400: {again}");
    assert_eq!(again["details"][0]["parameter"], "start_time");

    let event = uuid_of(&invitee["event"]);
    let (status, shown) = get(&stand_in, TOKEN, &format!("/scheduled_events/{event}"), &[]).await;
    assert_eq!(
        (status, &shown["resource"]["status"]),
        (200, &json!("active"))
    );
    assert_eq!(shown["resource"]["invitees_counter"]["active"], 1);
    let (status, invitees) = get(
        &stand_in,
        TOKEN,
        &format!("/scheduled_events/{event}/invitees"),
        &[],
    )
    .await;
    assert_eq!(
        (status, invitees["collection"][0]["uri"].clone()),
        (200, invitee["uri"].clone())
    );
    let (status, _) = get(
        &stand_in,
        "someone-else",
        &format!("/scheduled_events/{event}"),
        &[],
    )
    .await;
    assert_eq!(status, 403, "another user's event");

    let host = user_uri(&stand_in, TOKEN).await;
    let (status, listed) = get(
        &stand_in,
        TOKEN,
        "/scheduled_events",
        &[
            ("user", &host),
            ("invitee_email", "ada@example.com"),
            ("status", "active"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{listed}");
    assert_eq!(listed["collection"].as_array().map(Vec::len), Some(1));

    let path = format!("/scheduled_events/{event}/cancellation");
    let (status, _, canceled) = post(&stand_in, "someone-else", &path, &json!({})).await;
    assert_eq!(status, 403, "{canceled}");
    let (status, _, canceled) = post(&stand_in, TOKEN, &path, &json!({"reason": "Ill"})).await;
    assert_eq!(status, 201, "{canceled}");
    assert_eq!(canceled["resource"]["reason"], "Ill");
    let (status, _, twice) = post(&stand_in, TOKEN, &path, &json!({})).await;
    assert_eq!(
        (status, &twice["message"]),
        (403, &json!("Event is already canceled"))
    );
    assert!(
        offered(&stand_in, &first)
            .await
            .iter()
            .any(|(t, _)| *t == start),
        "free again"
    );
    let (_, listed) = get(
        &stand_in,
        TOKEN,
        "/scheduled_events",
        &[("user", &host), ("status", "canceled")],
    )
    .await;
    assert_eq!(listed["collection"][0]["status"], "canceled");
}

#[tokio::test]
async fn what_calendly_refuses_is_refused_and_books_nothing() {
    // Every attempt counts against the booking limit, refused or not.
    let stand_in = StandIn::start_with(&["--booking-limit", "100", "500", "1000"]);
    let first = event_type(&stand_in, 0).await;
    let (start, _) = offered(&stand_in, &first).await[0].clone();
    let good = booking(&first, &start);
    let with = |pointer: &str, value: Value| {
        let mut body = good.clone();
        *body.pointer_mut(pointer).expect("a field") = value;
        body
    };
    let later =
        (DateTime::parse_from_rfc3339(&start).expect("t") + TimeDelta::minutes(7)).to_rfc3339();
    let past = (Utc::now() - TimeDelta::hours(1)).to_rfc3339();
    let cases: Vec<(Value, &str)> = vec![
        (json!([good.clone()]), "body"),
        (
            with("/invitee/email", json!("not-an-email")),
            "invitee.email",
        ),
        (
            with("/invitee/timezone", json!("Mars/Olympus")),
            "invitee.timezone",
        ),
        (
            with("/invitee/timezone", json!("+01:00")),
            "invitee.timezone",
        ),
        (with("/invitee/name", json!("")), "invitee.name"),
        (with("/start_time", json!(later)), "start_time"),
        (with("/start_time", json!(past)), "start_time"),
        (
            with(
                "/questions_and_answers/0/question",
                json!("what should we talk about?"),
            ),
            "questions_and_answers",
        ),
        (
            with("/questions_and_answers/0/position", json!(1)),
            "questions_and_answers",
        ),
        (
            with("/questions_and_answers", json!([])),
            "questions_and_answers",
        ),
        (with("/location/kind", json!("physical")), "location.kind"),
        (
            with("/location", json!({"kind": "zoom_conference"}))
                .as_object()
                .map(|b| {
                    let mut b = b.clone();
                    b.insert(
                        "event_guests".into(),
                        json!(
                            (0..11)
                                .map(|i| format!("g{i}@example.com"))
                                .collect::<Vec<_>>()
                        ),
                    );
                    Value::Object(b)
                })
                .expect("object"),
            "event_guests",
        ),
        (
            with("/location", json!({"kind": "zoom_conference"}))
                .as_object()
                .map(|b| {
                    let mut b = b.clone();
                    b.insert("tracking".into(), json!({"utm_source": "x"}));
                    Value::Object(b)
                })
                .expect("object"),
            "tracking",
        ),
    ];
    for (body, parameter) in cases {
        let (status, _, refused) = post(&stand_in, TOKEN, "/invitees", &body).await;
        assert_eq!(status, 400, "{parameter}: {refused}");
        assert_eq!(refused["details"][0]["parameter"], parameter, "{refused}");
    }
    let inactive = event_type(&stand_in, 3).await;
    let (status, _, _) = post(
        &stand_in,
        TOKEN,
        "/invitees",
        &with("/event_type", json!(inactive)),
    )
    .await;
    assert_eq!(status, 400, "an inactive event type");
    let (status, _, _) = post(&stand_in, "someone-else", "/invitees", &good).await;
    assert_eq!(status, 404, "another user's event type");
    let (status, _, refused) = post(&stand_in, "scoped[users:read]", "/invitees", &good).await;
    assert_eq!(status, 403, "{refused}");
    assert!(
        offered(&stand_in, &first)
            .await
            .iter()
            .any(|(t, _)| *t == start),
        "nothing booked"
    );
    let (status, _, _) = post(&stand_in, TOKEN, "/invitees", &good).await;
    assert_eq!(status, 201, "the good body books");
}

#[tokio::test]
async fn bookings_are_limited_apart_with_headers_of_their_own() {
    let stand_in = StandIn::start_with(&["--booking-limit", "3", "50", "100"]);
    let first = event_type(&stand_in, 0).await;
    let times = offered(&stand_in, &first).await;
    let mut answers = Vec::new();
    for (start, _) in times.iter().take(5) {
        let (status, remaining, _) =
            post(&stand_in, TOKEN, "/invitees", &booking(&first, start)).await;
        answers.push((status, remaining));
    }
    assert_eq!(
        answers,
        [
            (201, Some(2)),
            (201, Some(1)),
            (201, Some(0)),
            (429, Some(0)),
            (429, Some(0))
        ]
    );
    let response = client()
        .get(format!("{}/users/me", stand_in.address))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("sent");
    assert_eq!(
        response
            .headers()
            .get("x-ratelimit-limit")
            .and_then(|v| v.to_str().ok()),
        Some("500"),
        "other calls keep the general limit"
    );
}

#[tokio::test]
async fn a_group_time_takes_as_many_invitees_as_it_has_seats() {
    let stand_in = StandIn::start();
    let group = event_type(&stand_in, 2).await;
    let (start, seats) = offered(&stand_in, &group).await[0].clone();
    assert_eq!(seats, 3);
    let body = json!({
        "event_type": group, "start_time": start,
        "invitee": {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com", "timezone": "UTC"},
    });
    let mut events = Vec::new();
    for _ in 0..3 {
        let (status, _, booked) = post(&stand_in, TOKEN, "/invitees", &body).await;
        assert_eq!(status, 201, "{booked}");
        assert_eq!(booked["resource"]["name"], "Ada Lovelace");
        events.push(booked["resource"]["event"].clone());
    }
    assert!(
        events.iter().all(|e| *e == events[0]),
        "one event, three invitees"
    );
    let (status, _, _) = post(&stand_in, TOKEN, "/invitees", &body).await;
    assert_eq!(status, 400, "no seat left");
    let (_, shown) = get(
        &stand_in,
        TOKEN,
        &format!("/scheduled_events/{}", uuid_of(&events[0])),
        &[],
    )
    .await;
    assert_eq!(
        shown["resource"]["invitees_counter"],
        json!({"total": 3, "active": 3, "limit": 3})
    );
}

#[tokio::test]
async fn a_booking_and_its_cancellation_are_delivered_to_the_hosts_subscriptions() {
    use wiremock::matchers::method;
    use wiremock::{Mock, MockServer, ResponseTemplate};

    let stand_in = StandIn::start();
    let receiver = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&receiver)
        .await;
    let host = user_uri(&stand_in, TOKEN).await;
    let (status, _, subscribed) = post(
        &stand_in,
        TOKEN,
        "/webhook_subscriptions",
        &json!({
            "url": format!("{}/hook", receiver.uri()),
            "events": ["invitee.created", "invitee.canceled"], "scope": "user", "user": host,
            "organization": host.replace("/users/", "/organizations/"), "signing_key": "k",
        }),
    )
    .await;
    assert_eq!(status, 201, "{subscribed}");
    let first = event_type(&stand_in, 0).await;
    let (start, _) = offered(&stand_in, &first).await[0].clone();
    let (status, _, booked) = post(&stand_in, TOKEN, "/invitees", &booking(&first, &start)).await;
    assert_eq!(status, 201, "{booked}");
    let path = format!(
        "/scheduled_events/{}/cancellation",
        uuid_of(&booked["resource"]["event"])
    );
    let (status, _, _) = post(&stand_in, TOKEN, &path, &json!({})).await;
    assert_eq!(status, 201);

    // Delivered after the answers, as Calendly does.
    let mut events = Vec::new();
    for _ in 0..100 {
        let received = receiver.received_requests().await.expect("recorded");
        events = received
            .iter()
            .map(|r| serde_json::from_slice::<Value>(&r.body).expect("json"))
            .collect::<Vec<_>>();
        if events.len() >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let names: Vec<&Value> = events.iter().map(|e| &e["event"]).collect();
    assert_eq!(
        names,
        [&json!("invitee.created"), &json!("invitee.canceled")]
    );
    for event in &events {
        assert_eq!(event["payload"]["email"], "ada@example.com");
        assert_eq!(
            event["payload"]["scheduled_event"]["start_time"]
                .as_str()
                .map(|t| t.starts_with(&start[..16])),
            Some(true)
        );
    }
    assert_eq!(
        events[1]["payload"]["scheduled_event"]["status"],
        "canceled"
    );
}
