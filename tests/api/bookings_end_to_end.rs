//! Booking through two gateway processes on one PostgreSQL and the Calendly stand-in's binary,
//! webhooks off and answers cached for an hour: only the booking itself can make the times
//! fresh.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use test_support::TestDatabase;

use crate::binary::{Server, access_token, development_env, env_with, serve};
use crate::helpers::{days_ahead, get_json, http_client, json_of, metric_at};
use crate::stand_in::StandIn;

/// Two gateways caching for an hour, a user connected through the first, and their first
/// event type (a required question, Zoom).
struct Booking {
    stand_in: StandIn,
    _db: TestDatabase,
    gateways: [(Server, String); 2],
    bearer: String,
    /// Another user of the same application.
    stranger: String,
    event_type: String,
}

async fn booking(stand_in_args: &[&str]) -> Booking {
    booking_with(stand_in_args, &[]).await
}

async fn booking_with(stand_in_args: &[&str], settings: &[(&str, &str)]) -> Booking {
    let stand_in = StandIn::start(stand_in_args);
    let db = TestDatabase::create().await;
    let cached = env_with(
        &development_env(db.url(), &stand_in.url),
        &[
            ("APP__CACHE__AVAILABILITY_TTL_SECS", "3600"),
            ("APP__CACHE__EVENT_TYPES_TTL_SECS", "3600"),
        ],
    );
    let env = env_with(&cached, settings);
    let (a, a_url, _) = serve(&env);
    let (b, b_url, _) = serve(&env);
    let bearer = access_token(&env, "host");
    let stranger = access_token(&env, "stranger");
    let (status, _) = json_of(
        http_client()
            .put(format!("http://{a_url}/calendly/connection"))
            .bearer_auth(&bearer)
            .json(&json!({ "personal_access_token": "pat-of-the-host" }))
            .send()
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!(status, 200);
    let (status, types) = get_json(&a_url, &bearer, "/calendly/user-event-types").await;
    assert_eq!(status, 200);
    let event_type = types[0]["uri"].as_str().expect("an event type").to_owned();
    Booking {
        stand_in,
        _db: db,
        gateways: [(a, a_url), (b, b_url)],
        bearer,
        stranger,
        event_type,
    }
}

impl Booking {
    fn url(&self, at: usize) -> &str {
        &self.gateways[at].1
    }

    /// `endpoint` asked about the event type's next week (from two days ahead), through
    /// gateway `at`: its answer.
    async fn next_week(&self, at: usize, endpoint: &str, extra: &str) -> Value {
        let (start, end) = (days_ahead(2), days_ahead(9));
        let path = format!(
            "{endpoint}?start_time={}&end_time={}&event_type={}{extra}",
            start.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            end.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            self.event_type
        );
        let (status, body) = get_json(self.url(at), &self.bearer, &path).await;
        assert_eq!(status, 200, "{body}");
        body
    }

    /// The event type's available start times next week, through gateway `at`.
    async fn times(&self, at: usize) -> Vec<String> {
        self.next_week(at, "/calendly/check-availability", "").await["collection"]
            .as_array()
            .expect("times")
            .iter()
            .map(|t| t["start_time"].as_str().expect("start").to_owned())
            .collect()
    }

    /// The event type's slots next week, in UTC, through gateway `at` (what a booking page
    /// draws).
    async fn slots(&self, at: usize) -> Vec<DateTime<Utc>> {
        let body = self.next_week(at, "/calendly/slots", "&timezone=UTC").await;
        body["days"]
            .as_array()
            .expect("days")
            .iter()
            .flat_map(|day| day["slots"].as_array().expect("slots").clone())
            .map(|slot| {
                DateTime::parse_from_rfc3339(slot["start"].as_str().expect("start"))
                    .expect("a time")
                    .to_utc()
            })
            .collect()
    }

    fn body(&self, start_time: &str, email: &str) -> Value {
        json!({
            "event_type": self.event_type,
            "start_time": start_time,
            "invitee": {"name": "Ada Lovelace", "email": email, "timezone": "Europe/London"},
            "location": {"kind": "zoom_conference"},
            "questions_and_answers": [{"question": "What should we talk about?", "answer": "Engines", "position": 0}],
        })
    }

    async fn book(&self, at: usize, body: &Value, key: Option<&str>) -> (u16, Value) {
        let mut request = http_client()
            .post(format!("http://{}/calendly/bookings", self.url(at)))
            .bearer_auth(&self.bearer)
            .json(body);
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        json_of(request.send().await.expect("sent")).await
    }

    async fn booked(&self) -> u64 {
        self.stand_in.stats().await["invitees_created"]
    }
}

#[tokio::test]
async fn a_time_booked_through_one_instance_leaves_every_instance_and_comes_back_when_canceled() {
    let setup = booking(&[]).await;
    let slots = setup.slots(0).await;
    assert_eq!(
        setup.slots(1).await,
        slots,
        "both instances cached the week"
    );
    let slot = slots[0];
    let time = slot.to_rfc3339();

    let (status, booked) = setup
        .book(0, &setup.body(&time, "ada@example.com"), Some("first"))
        .await;
    assert_eq!(status, 201, "{booked}");
    assert_eq!(booked["status"], "active");
    assert_eq!(booked["invitees"][0]["email"], "ada@example.com");
    let uuid = booked["uuid"].as_str().expect("uuid").to_owned();
    // Gone from the very next slots answer of each instance (webhooks are off: the booking
    // told them).
    assert!(!setup.slots(0).await.contains(&slot), "gone from A");
    assert!(!setup.slots(1).await.contains(&slot), "gone from B");

    let (start, end) = (days_ahead(1), days_ahead(10));
    let (status, listed) = get_json(
        setup.url(1),
        &setup.bearer,
        &format!(
            "/calendly/bookings?start_time={}&end_time={}",
            start.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            end.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        ),
    )
    .await;
    assert_eq!(status, 200, "{listed}");
    assert_eq!(listed["collection"][0]["uuid"], uuid.as_str());
    assert!(listed["collection"][0]["invitees_counter"].is_object());
    let (status, one) = get_json(
        setup.url(1),
        &setup.bearer,
        &format!("/calendly/bookings/{uuid}"),
    )
    .await;
    assert_eq!(status, 200, "{one}");
    assert_eq!(one["invitees"][0]["name"], "Ada Lovelace");

    // Another user, connected to another Calendly account, can neither see nor cancel it.
    let stranger = &setup.stranger;
    let connected = http_client()
        .put(format!("http://{}/calendly/connection", setup.url(0)))
        .bearer_auth(stranger)
        .json(&json!({ "personal_access_token": "pat-of-a-stranger" }))
        .send()
        .await
        .expect("sent");
    assert_eq!(connected.status(), 200);
    let (status, seen) = get_json(
        setup.url(1),
        stranger,
        &format!("/calendly/bookings/{uuid}"),
    )
    .await;
    assert_eq!((status, &seen["code"]), (404, &json!("booking_not_found")));
    let (status, refused) = json_of(
        http_client()
            .post(format!(
                "http://{}/calendly/bookings/{uuid}/cancellation",
                setup.url(1)
            ))
            .bearer_auth(stranger)
            .send()
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!(
        (status, &refused["code"]),
        (404, &json!("booking_not_found"))
    );
    let (status, still) = get_json(
        setup.url(0),
        &setup.bearer,
        &format!("/calendly/bookings/{uuid}"),
    )
    .await;
    assert_eq!(
        (status, &still["status"]),
        (200, &json!("active")),
        "nothing canceled"
    );

    let cancel = |at: usize| {
        http_client()
            .post(format!(
                "http://{}/calendly/bookings/{uuid}/cancellation",
                setup.url(at)
            ))
            .bearer_auth(&setup.bearer)
            .json(&json!({"reason": "Something came up"}))
            .send()
    };
    let (status, canceled) = json_of(cancel(1).await.expect("sent")).await;
    assert_eq!(
        (status, &canceled["status"]),
        (200, &json!("canceled")),
        "{canceled}"
    );
    let (status, again) = json_of(cancel(0).await.expect("sent")).await;
    assert_eq!(
        (status, &again["code"]),
        (409, &json!("booking_already_canceled"))
    );
    assert!(setup.slots(1).await.contains(&slot), "bookable again on B");
    assert!(setup.slots(0).await.contains(&slot), "bookable again on A");
    assert_eq!(setup.booked().await, 1);
}

#[tokio::test]
async fn twenty_bookings_of_one_seat_through_two_instances_make_one() {
    let setup = booking(&[]).await;
    let time = setup.times(0).await[0].clone();
    setup.times(1).await;
    let attempts = (0..20).map(|i| {
        let body = setup.body(&time, &format!("guest{i}@example.com"));
        let key = format!("key-{i}");
        let setup = &setup;
        async move { setup.book(i % 2, &body, Some(&key)).await }
    });
    let answers = futures::future::join_all(attempts).await;
    let created = answers.iter().filter(|(status, _)| *status == 201).count();
    let refused: Vec<&Value> = answers
        .iter()
        .filter(|(status, _)| *status == 409)
        .map(|(_, body)| &body["code"])
        .collect();
    assert_eq!(created, 1, "{answers:?}");
    assert_eq!(refused.len(), 19, "{answers:?}");
    assert!(
        refused.iter().all(|code| *code == "slot_unavailable"),
        "{refused:?}"
    );
    assert_eq!(setup.booked().await, 1);
    let mut counted = (0, 0);
    for at in 0..2 {
        let series =
            |outcome: &str| format!("bookings_total{{action=\"book\",outcome=\"{outcome}\"}}");
        counted.0 += metric_at(setup.url(at), &series("booked")).await;
        counted.1 += metric_at(setup.url(at), &series("slot_unavailable")).await;
    }
    assert_eq!(counted, (1, 19), "bookings by outcome in /metrics");
}

#[tokio::test]
async fn one_key_through_both_instances_at_once_books_once() {
    let setup = booking(&[]).await;
    let time = setup.times(0).await[1].clone();
    let body = setup.body(&time, "ada@example.com");
    let (first, second) = tokio::join!(
        setup.book(0, &body, Some("same-key")),
        setup.book(1, &body, Some("same-key"))
    );
    for (status, answer) in [&first, &second] {
        assert!(
            *status == 201 || (*status == 409 && answer["code"] == "request_in_progress"),
            "{status} {answer}"
        );
    }
    assert_eq!(setup.booked().await, 1);
    // Asked again, the key answers the booking it made, without booking again.
    let (status, again) = setup.book(1, &body, Some("same-key")).await;
    assert_eq!(status, 201, "{again}");
    let made = [&first, &second]
        .into_iter()
        .find(|(status, _)| *status == 201)
        .map(|(_, booking)| booking["uuid"].clone());
    assert_eq!(Some(again["uuid"].clone()), made);
    let (status, reused) = setup
        .book(
            0,
            &setup.body(&time, "someone@example.com"),
            Some("same-key"),
        )
        .await;
    assert_eq!(
        (status, &reused["code"]),
        (422, &json!("idempotency_key_reused"))
    );
    assert_eq!(setup.booked().await, 1);
}

#[tokio::test]
async fn with_three_bookings_a_minute_the_fourth_is_refused_before_calendly_is() {
    let setup = booking(&["--booking-limit", "3", "50", "100"]).await;
    let times = setup.times(0).await;
    let mut answers = Vec::new();
    for (i, time) in times.iter().take(5).enumerate() {
        let body = setup.body(time, &format!("guest{i}@example.com"));
        let response = http_client()
            .post(format!("http://{}/calendly/bookings", setup.url(0)))
            .bearer_auth(&setup.bearer)
            .json(&body)
            .send()
            .await
            .expect("sent");
        let retry_after = response.headers().get("retry-after").cloned();
        let (status, answer) = json_of(response).await;
        answers.push((status, answer, retry_after));
    }
    let statuses: Vec<u16> = answers.iter().map(|(status, ..)| *status).collect();
    assert_eq!(statuses, [201, 201, 201, 429, 429], "{answers:?}");
    for (_, answer, retry_after) in &answers[3..] {
        assert_eq!(answer["code"], "calendly_rate_limited");
        assert!(retry_after.is_some(), "Retry-After");
    }
    let stats = setup.stand_in.stats().await;
    assert_eq!(
        stats["invitee_posts"], 3,
        "Calendly's own 429 never reached: {stats:?}"
    );
    assert_eq!(stats["invitees_created"], 3);
}

#[tokio::test]
async fn bad_bookings_are_refused_without_a_call_to_calendly() {
    let setup = booking(&[]).await;
    let time = setup.times(0).await[0].clone();
    setup.stand_in.reset_stats().await;
    let good = setup.body(&time, "ada@example.com");
    let with = |pointer: &str, value: Value| {
        let mut body = good.clone();
        let (parent, key) = pointer.rsplit_once('/').expect("pointer");
        body.pointer_mut(parent)
            .and_then(Value::as_object_mut)
            .expect("parent")
            .insert(key.to_owned(), value);
        body
    };
    let later =
        chrono::DateTime::parse_from_rfc3339(&time).expect("time") + chrono::TimeDelta::minutes(7);
    let cases = [
        (
            with("/invitee/email", json!("ada")),
            400,
            "invalid_parameter",
        ),
        (
            with("/invitee/timezone", json!("Mars/Olympus")),
            400,
            "invalid_parameter",
        ),
        (
            with("/invitee/timezone", json!("+01:00")),
            400,
            "invalid_parameter",
        ),
        (
            with("/start_time", json!(later.to_rfc3339())),
            409,
            "slot_unavailable",
        ),
        (
            with("/start_time", json!("2020-01-01T09:00:00Z")),
            400,
            "invalid_parameter",
        ),
        (
            with("/questions_and_answers", json!([])),
            400,
            "invalid_parameter",
        ),
        (
            with(
                "/questions_and_answers",
                json!([{"question": "what should we talk about?", "answer": "x", "position": 0}]),
            ),
            400,
            "invalid_parameter",
        ),
        (
            with("/location", json!({"kind": "physical"})),
            400,
            "invalid_parameter",
        ),
        (
            with("/guests", json!(vec!["g@example.com"; 11])),
            400,
            "invalid_parameter",
        ),
        (
            with("/event_type", json!(setup.event_type.replace("-0", "-3"))),
            409,
            "event_type_inactive",
        ),
        (
            with(
                "/event_type",
                json!("https://api.calendly.com/event_types/SOMEONE-0"),
            ),
            404,
            "event_type_not_found",
        ),
        (json!([good.clone()]), 400, "invalid_parameter"),
    ];
    for (body, status, code) in cases {
        let (got, answer) = setup.book(0, &body, None).await;
        assert_eq!(
            (got, answer["code"].as_str()),
            (status, Some(code)),
            "{body}: {answer}"
        );
    }
    let (status, answer) = setup.book(0, &good, Some(&"k".repeat(300))).await;
    assert_eq!(
        (status, &answer["code"]),
        (400, &json!("invalid_parameter"))
    );
    let huge = http_client()
        .post(format!("http://{}/calendly/bookings", setup.url(0)))
        .bearer_auth(&setup.bearer)
        .header("content-type", "application/json")
        .body(format!("{{\"event_type\": \"{}\"}}", "x".repeat(70 * 1024)))
        .send()
        .await
        .expect("sent");
    assert_eq!(huge.status(), 413);
    let long = http_client()
        .post(format!(
            "http://{}/calendly/bookings/ANY/cancellation",
            setup.url(0)
        ))
        .bearer_auth(&setup.bearer)
        .json(&json!({"reason": "x".repeat(10_001)}))
        .send()
        .await
        .expect("sent");
    assert_eq!(long.status(), 400);
    let stats = setup.stand_in.stats().await;
    assert_eq!(stats["invitee_posts"], 0, "{stats:?}");
}

#[tokio::test]
async fn a_booking_whose_answer_was_cut_off_is_made_once_and_its_retry_answers_it() {
    let setup = booking_with(&[], &[("APP__CALENDLY__TIMEOUT_MS", "1000")]).await;
    let time = setup.times(0).await[0].clone();
    // The stand-in books, then answers only after the gateway gave up on the answer.
    http_client()
        .post(format!("{}/admin/cut_booking_answers", setup.stand_in.url))
        .json(&json!({"count": 1, "delay_ms": 3000}))
        .send()
        .await
        .expect("sent");
    let body = setup.body(&time, "ada@example.com");
    let (status, first) = setup.book(0, &body, Some("cut-off")).await;
    // Looked up at once: the booking it made (or, were the lookup to fail, the key kept in
    // doubt for the retry).
    assert!(
        status == 201 || (status == 409 && first["code"] == "request_in_progress"),
        "{status} {first}"
    );
    let (status, retried) = setup.book(1, &body, Some("cut-off")).await;
    assert_eq!(status, 201, "{retried}");
    if first["uuid"].is_string() {
        assert_eq!(first["uuid"], retried["uuid"]);
    }
    let stats = setup.stand_in.stats().await;
    assert_eq!(
        (stats["invitee_posts"], stats["invitees_created"]),
        (1, 1),
        "one booking: {stats:?}"
    );
}
