//! The Calendly adapter's booking side against a wiremock Calendly: what it sends, how it
//! reads Calendly's answers and refusals, and the booking limit kept apart.

use std::sync::Arc;
use std::time::Duration;

use adapters::calendly::{CalendlyClient, RateBudgets};
use chrono::DateTime;
use domain::booking::{
    Answer, BookingId, BookingProvider, BookingRequest, BookingStatus, BookingsQuery, Email,
    Invitee, InviteeName,
};
use domain::{
    CalendlyToken, CalendlyUserUri, EventType, EventTypeUri, ProviderError, RawJson, Rejection,
};
use serde_json::{Value, json};
use wiremock::matchers::{body_partial_json, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

mod support;

const ACCOUNT: &str = "https://api.calendly.com/users/HOST";
const TYPE: &str = "https://api.calendly.com/event_types/E";

fn client(server: &MockServer) -> CalendlyClient {
    support::client_with(
        &server.uri(),
        Duration::from_secs(5),
        support::never_open(),
        None,
        Arc::new(RateBudgets::default()),
    )
}

fn token() -> CalendlyToken {
    CalendlyToken::parse("calendly-pat").expect("token")
}

fn account() -> CalendlyUserUri {
    CalendlyUserUri::parse(ACCOUNT).expect("uri")
}

fn request() -> BookingRequest {
    BookingRequest {
        event_type: EventTypeUri::parse(TYPE).expect("uri"),
        start_time: DateTime::parse_from_rfc3339("2030-01-02T09:00:00Z")
            .expect("time")
            .to_utc(),
        invitee: Invitee {
            name: InviteeName::Parts {
                first: "Ada".into(),
                last: Some("Lovelace".into()),
            },
            email: Email::parse("ada@example.com").expect("email"),
            timezone: chrono_tz::Europe::London,
            text_reminder_number: None,
        },
        location: None,
        answers: vec![Answer {
            question: "What should we talk about?".into(),
            answer: "Engines".into(),
            position: 0,
        }],
        guests: vec![Email::parse("charles@example.com").expect("email")],
        tracking: None,
    }
}

fn event(uuid: &str, host: &str, status: &str) -> Value {
    json!({
        "uri": format!("https://api.calendly.com/scheduled_events/{uuid}"),
        "name": "30 Minute Meeting",
        "status": status,
        "start_time": "2030-01-02T09:00:00.000000Z",
        "end_time": "2030-01-02T09:30:00.000000Z",
        "event_type": TYPE,
        "location": {"type": "zoom_conference", "join_url": "https://zoom.example/1"},
        "invitees_counter": {"total": 1, "active": 1, "limit": 1},
        "event_memberships": [{"user": host}],
    })
}

fn invitee(uuid: &str) -> Value {
    json!({
        "uri": format!("https://api.calendly.com/scheduled_events/{uuid}/invitees/I1"),
        "event": format!("https://api.calendly.com/scheduled_events/{uuid}"),
        "name": "Ada Lovelace", "email": "ada@example.com", "timezone": "Europe/London",
        "status": "active",
        "questions_and_answers": [{"question": "What should we talk about?", "answer": "Engines", "position": 0}],
        "cancel_url": "https://calendly.com/cancellations/I1",
        "reschedule_url": "https://calendly.com/reschedulings/I1",
        "scheduling_method": "instant_book",
    })
}

fn calendly_error(status: u16, parameter: &str, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({
        "title": "Invalid Argument",
        "message": message,
        "details": [{"parameter": parameter, "message": message}],
    }))
}

/// Calendly answering `GET /scheduled_events/EV1`: the host's active event.
fn the_booked_event() -> Mock {
    Mock::given(method("GET"))
        .and(path("/scheduled_events/EV1"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"resource": event("EV1", ACCOUNT, "active")})),
        )
}

/// Whether `answer` is Calendly's refusal for `reason`.
fn refused_as<T>(answer: &Result<T, ProviderError>, reason: Rejection) -> bool {
    matches!(answer, Err(ProviderError::Rejected { reason: given, .. }) if *given == reason)
}

#[test]
fn the_form_is_read_from_the_event_types_questions_and_locations() {
    let event_type = EventType {
        uri: EventTypeUri::parse(TYPE).expect("uri"),
        duration_minutes: Some(30),
        active: true,
        json: RawJson::parse(
            json!({
                "uri": TYPE,
                "custom_questions": [
                    {"name": "Company Name", "type": "string", "position": 0, "enabled": true, "required": true, "answer_choices": []},
                    {"name": "Number of employees", "type": "single_select", "position": 2, "enabled": false, "required": false, "answer_choices": ["1"]}
                ],
                "locations": [{"kind": "zoom_conference"}, {"kind": "physical", "location": "1 Main St"}]
            })
            .to_string(),
        )
        .expect("json"),
    };
    let server_less = support::client_with(
        "http://127.0.0.1:9",
        Duration::from_secs(1),
        support::never_open(),
        None,
        Arc::default(),
    );
    let form = server_less.form(&event_type).expect("form");
    assert_eq!(form.questions.len(), 2);
    assert!(form.questions[0].required && form.questions[0].enabled);
    assert_eq!(form.questions[1].position, 2);
    assert!(!form.questions[1].enabled);
    assert_eq!(form.location_kinds, ["zoom_conference", "physical"]);
}

#[tokio::test]
async fn a_booking_is_posted_as_calendly_takes_it_and_read_back_with_its_invitee() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/invitees"))
        .and(body_partial_json(json!({
            "event_type": TYPE,
            "start_time": "2030-01-02T09:00:00.000000Z",
            "invitee": {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com", "timezone": "Europe/London"},
            "questions_and_answers": [{"question": "What should we talk about?", "answer": "Engines", "position": 0}],
            "event_guests": ["charles@example.com"],
        })))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"resource": invitee("EV1")})))
        .expect(1)
        .mount(&server)
        .await;
    the_booked_event().mount(&server).await;
    let booking = client(&server)
        .book(&token(), &account(), &request())
        .await
        .expect("booked");
    assert_eq!(booking.id.as_str(), "EV1");
    assert_eq!(booking.status, BookingStatus::Active);
    assert_eq!(booking.event_type.as_deref(), Some(TYPE));
    let invitees = booking.invitees.expect("invitees");
    assert_eq!(invitees[0].email, "ada@example.com");
    assert_eq!(
        invitees[0].cancel_url.as_deref(),
        Some("https://calendly.com/cancellations/I1")
    );
}

#[tokio::test]
async fn a_time_calendly_refuses_is_unavailable_and_other_refusals_stay_what_they_are() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/invitees"))
        .respond_with(calendly_error(
            400,
            "start_time",
            "The event type is not available at the requested time",
        ))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/invitees"))
        .respond_with(calendly_error(
            400,
            "invitee.email",
            "must be a valid email",
        ))
        .mount(&server)
        .await;
    let client = client(&server);
    let taken = client.book(&token(), &account(), &request()).await;
    assert!(refused_as(&taken, Rejection::TimeUnavailable), "{taken:?}");
    let bad = client.book(&token(), &account(), &request()).await;
    assert!(refused_as(&bad, Rejection::BadArgument), "{bad:?}");
}

#[tokio::test]
async fn a_spent_booking_limit_refuses_the_next_booking_without_a_call_but_not_other_calls() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/invitees"))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(json!({"resource": invitee("EV1")}))
                .insert_header("x-ratelimit-limit", "10")
                .insert_header("x-ratelimit-remaining", "0")
                .insert_header("x-ratelimit-reset", "42"),
        )
        .expect(1)
        .mount(&server)
        .await;
    the_booked_event().expect(2).mount(&server).await;
    let client = client(&server);
    client
        .book(&token(), &account(), &request())
        .await
        .expect("booked");
    let refused = client.book(&token(), &account(), &request()).await;
    assert!(
        matches!(refused, Err(ProviderError::RateLimited { retry_after: Some(wait), .. }) if wait.as_secs() <= 42 && wait.as_secs() >= 40),
        "{refused:?}"
    );
    // Other calls draw on the general budget, untouched.
    let id = BookingId::parse("EV1").expect("id");
    Mock::given(method("GET"))
        .and(path("/scheduled_events/EV1/invitees"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"collection": [invitee("EV1")], "pagination": {"next_page_token": null}}),
        ))
        .mount(&server)
        .await;
    client
        .booking(&token(), &account(), &id)
        .await
        .expect("read");
}

#[tokio::test]
async fn another_hosts_event_is_not_found_and_a_second_cancellation_conflicts() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/scheduled_events/OTHER"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"resource": event("OTHER", "https://api.calendly.com/users/SOMEONE", "active")}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/scheduled_events/EV1/cancellation"))
        .and(body_partial_json(json!({"reason": "ill"})))
        .respond_with(calendly_error(403, "uuid", "Event is already canceled"))
        .mount(&server)
        .await;
    let client = client(&server);
    let other = client
        .booking(
            &token(),
            &account(),
            &BookingId::parse("OTHER").expect("id"),
        )
        .await;
    assert!(refused_as(&other, Rejection::NotFound), "{other:?}");
    let again = client
        .cancel(
            &token(),
            &account(),
            &BookingId::parse("EV1").expect("id"),
            Some("ill"),
        )
        .await;
    assert!(refused_as(&again, Rejection::Conflict), "{again:?}");
}

#[tokio::test]
async fn bookings_are_listed_over_every_page_with_the_filters_asked() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/scheduled_events"))
        .and(query_param("user", ACCOUNT))
        .and(query_param("invitee_email", "ada@example.com"))
        .and(query_param("status", "active"))
        .and(query_param("page_token", "NEXT"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "collection": [event("EV2", ACCOUNT, "active")],
            "pagination": {"next_page_token": null},
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/scheduled_events"))
        .and(query_param("min_start_time", "2030-01-01T00:00:00.000000Z"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "collection": [event("EV1", ACCOUNT, "active")],
            "pagination": {"next_page_token": "NEXT"},
        })))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    let listed = client(&server)
        .bookings(
            &token(),
            &account(),
            &BookingsQuery {
                start: DateTime::parse_from_rfc3339("2030-01-01T00:00:00Z")
                    .expect("t")
                    .to_utc(),
                end: DateTime::parse_from_rfc3339("2030-02-01T00:00:00Z")
                    .expect("t")
                    .to_utc(),
                status: Some(BookingStatus::Active),
                invitee_email: Some(Email::parse("ada@example.com").expect("email")),
            },
        )
        .await
        .expect("listed");
    let ids: Vec<&str> = listed.iter().map(|b| b.id.as_str()).collect();
    assert_eq!(ids, ["EV1", "EV2"]);
    assert!(
        listed
            .iter()
            .all(|b| b.invitees.is_none() && b.invitees_counter.is_some())
    );
}
