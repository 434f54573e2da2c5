//! `POST /invitees`: Calendly's booking API, as strict as Calendly. The event type must be the
//! caller's and active, the time one of its available times (400 otherwise, as Calendly), the
//! invitee's email, time zone and name given, every enabled required question answered with
//! its exact text and position, no question it does not ask, a location kind it offers, at most
//! 10 guests, `tracking` with all six keys. Limited apart from other calls (`--booking-limit`),
//! with its own `X-RateLimit-*` headers; needs `scheduled_events:write`. Each booking is an
//! invitee of a scheduled event (a group event type's times take several), and
//! `invitee.created` is delivered to the host's subscriptions.

use std::sync::atomic::Ordering;

use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Timelike, Utc};
use serde_json::{Value, json};

use crate::auth::paused_caller;
use crate::catalog::{self, Kind};
use crate::respond::{API, error, invalid_argument};
use crate::scheduled::{ScheduledEvent, end_of, new_uuid, written};
use crate::state::StandIn;
use crate::webhooks::deliver;

/// The keys `tracking` must hold, all of them, when it is sent.
const TRACKING: [&str; 6] = [
    "utm_campaign",
    "utm_source",
    "utm_medium",
    "utm_content",
    "utm_term",
    "salesforce_uuid",
];

pub(crate) async fn create(
    request: HttpRequest,
    body: web::Bytes,
    state: web::Data<StandIn>,
) -> HttpResponse {
    let user = match paused_caller(&request, &state, "scheduled_events:write").await {
        Ok(user) => user,
        Err(response) => return response,
    };
    state.calls.invitee_posts.fetch_add(1, Ordering::Relaxed);
    let counted = state.bookings_limit.count(&user);
    let mut response = if counted.allowed {
        booked(&user, &body, &state)
    } else {
        error(
            429,
            "Too Many Requests",
            "You have exceeded the rate limit. Please try again later.",
        )
    };
    let late = response.status() == actix_web::http::StatusCode::CREATED
        && state
            .calls
            .late_answers
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
            .is_ok();
    if late {
        // Booked, but the answer arrives after the caller gave up on it.
        let wait = state.calls.late_answer_ms.load(Ordering::Relaxed);
        tokio::time::sleep(std::time::Duration::from_millis(wait)).await;
    }
    let headers = response.headers_mut();
    for (name, value) in [
        ("x-ratelimit-limit", u64::from(counted.limit)),
        ("x-ratelimit-remaining", u64::from(counted.remaining)),
        ("x-ratelimit-reset", counted.reset_secs),
    ] {
        headers.insert(HeaderName::from_static(name), HeaderValue::from(value));
    }
    response
}

/// The booking of `body` by `user`, or Calendly's refusal.
fn booked(user: &str, body: &[u8], state: &web::Data<StandIn>) -> HttpResponse {
    let Ok(Value::Object(body)) = serde_json::from_slice::<Value>(body) else {
        return invalid_argument("body", "must be a JSON object");
    };
    let Some(event_type) = text(body.get("event_type")) else {
        return invalid_argument("event_type", "is required");
    };
    let Some(index) = catalog::index_of(event_type, user, state.event_types) else {
        return error(
            404,
            "Resource Not Found",
            "The server could not find the requested resource.",
        );
    };
    let kind = catalog::kind(index);
    if !kind.active {
        return invalid_argument("event_type", "is not active");
    }
    let start = match text(body.get("start_time")).map(DateTime::parse_from_rfc3339) {
        Some(Ok(start)) => start.to_utc(),
        _ => return invalid_argument("start_time", "must be a valid ISO 8601 time"),
    };
    if start <= Utc::now() {
        return invalid_argument("start_time", "must be in the future");
    }
    if !on_the_grid(start, state) {
        return unavailable();
    }
    let invitee = match checked_invitee(body.get("invitee")) {
        Ok(invitee) => invitee,
        Err(response) => return response,
    };
    let answers = match checked_answers(body.get("questions_and_answers"), &kind) {
        Ok(answers) => answers,
        Err(response) => return response,
    };
    let location = match checked_location(body.get("location"), &kind) {
        Ok(location) => location,
        Err(response) => return response,
    };
    if let Err(response) = checked_guests_and_tracking(&body) {
        return response;
    }
    if !state.hooks.take_seat(event_type, start, kind.seats) {
        return unavailable();
    }
    let owner = format!("{API}/users/{user}");
    let invitee_uuid = new_uuid();
    let now = written(Utc::now());
    let mut events = state.scheduled.events();
    let at = events.iter().position(|event| {
        event.event_type == event_type && event.start == start && event.cancellation.is_none()
    });
    let at = at.unwrap_or_else(|| {
        events.push(ScheduledEvent {
            uuid: new_uuid(),
            owner: owner.clone(),
            event_type: event_type.to_owned(),
            name: format!("{} Minute Meeting", kind.minutes),
            start,
            end: end_of(start, kind.minutes),
            seats: kind.seats,
            location: location.clone(),
            created_at: now.clone(),
            invitees: Vec::new(),
            cancellation: None,
        });
        events.len() - 1
    });
    let event = &mut events[at];
    let resource = json!({
        "uri": format!("{}/invitees/{invitee_uuid}", event.uri()),
        "event": event.uri(),
        "email": invitee["email"],
        "name": invitee["name"],
        "first_name": invitee["first_name"],
        "last_name": invitee["last_name"],
        "timezone": invitee["timezone"],
        "text_reminder_number": invitee["text_reminder_number"],
        "status": "active",
        "questions_and_answers": answers,
        "tracking": body.get("tracking").cloned().unwrap_or(Value::Null),
        "cancel_url": format!("https://calendly.com/cancellations/{invitee_uuid}"),
        "reschedule_url": format!("https://calendly.com/reschedulings/{invitee_uuid}"),
        "rescheduled": false,
        "canceled": false,
        "scheduling_method": "instant_book",
        "created_at": now,
        "updated_at": now,
    });
    event.invitees.push(resource.clone());
    state.calls.invitees_created.fetch_add(1, Ordering::Relaxed);
    let mut payload = resource.clone();
    payload["scheduled_event"] = event.resource();
    drop(events);
    let state = web::Data::clone(state);
    actix_web::rt::spawn(async move {
        deliver(&state, &owner, "invitee.created", payload).await;
    });
    HttpResponse::Created().json(json!({ "resource": resource }))
}

/// A string value, trimmed.
fn text(value: Option<&Value>) -> Option<&str> {
    value.and_then(Value::as_str).map(str::trim)
}

/// Calendly's refusal of a time that is not one of the event type's available times.
fn unavailable() -> HttpResponse {
    invalid_argument(
        "start_time",
        "The event type is not available at the requested time",
    )
}

/// Whether `start` is one of the stand-in's slots (every `--slot-minutes` from midnight UTC,
/// within 09:00–17:00).
fn on_the_grid(start: DateTime<Utc>, state: &StandIn) -> bool {
    let minutes = state.slot.num_minutes().max(1);
    let since_midnight = i64::from(start.num_seconds_from_midnight());
    start.nanosecond() == 0
        && since_midnight % (minutes * 60) == 0
        && (9..17).contains(&start.hour())
}

/// The invitee's fields, or Calendly's 400 naming the first one wrong.
fn checked_invitee(invitee: Option<&Value>) -> Result<Value, HttpResponse> {
    let Some(Value::Object(invitee)) = invitee else {
        return Err(invalid_argument("invitee", "is required"));
    };
    let text = |key: &str| {
        invitee
            .get(key)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|t| !t.is_empty())
    };
    let email = text("email").filter(|email| plausible_email(email));
    let Some(email) = email else {
        return Err(invalid_argument("invitee.email", "must be a valid email"));
    };
    let timezone = text("timezone").filter(|zone| zone.parse::<chrono_tz::Tz>().is_ok());
    let Some(timezone) = timezone else {
        return Err(invalid_argument(
            "invitee.timezone",
            "must be a valid IANA time zone",
        ));
    };
    let (first, last) = (text("first_name"), text("last_name"));
    let name = match (text("name"), first) {
        (Some(name), _) => name.to_owned(),
        (None, Some(first)) => {
            last.map_or_else(|| first.to_owned(), |last| format!("{first} {last}"))
        }
        (None, None) => return Err(invalid_argument("invitee.name", "is required")),
    };
    Ok(json!({
        "email": email, "timezone": timezone, "name": name,
        "first_name": first, "last_name": last,
        "text_reminder_number": text("text_reminder_number"),
    }))
}

/// An address with something before and after one `@`, a dot after it, and no space.
pub(crate) fn plausible_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && !email.chars().any(char::is_whitespace)
}

/// The answers as Calendly keeps them: each question one the event type asks (its exact text
/// and position), every enabled required one answered.
fn checked_answers(answers: Option<&Value>, kind: &Kind) -> Result<Value, HttpResponse> {
    let answers = match answers {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(answers)) => answers.clone(),
        Some(_) => {
            return Err(invalid_argument("questions_and_answers", "must be a list"));
        }
    };
    for answer in &answers {
        let question = answer.get("question").and_then(Value::as_str);
        let position = answer.get("position").and_then(Value::as_u64);
        let asked = kind.questions.iter().any(|q| {
            q.enabled && Some(q.name) == question && Some(u64::from(q.position)) == position
        });
        if !asked || !answer.get("answer").is_some_and(Value::is_string) {
            return Err(invalid_argument(
                "questions_and_answers",
                &format!(
                    "{} is not a question of this event type at its position",
                    question.unwrap_or("a question")
                ),
            ));
        }
    }
    for required in kind.questions.iter().filter(|q| q.enabled && q.required) {
        let answered = answers.iter().any(|a| {
            a.get("question").and_then(Value::as_str) == Some(required.name)
                && a.get("answer")
                    .and_then(Value::as_str)
                    .is_some_and(|text| !text.trim().is_empty())
        });
        if !answered {
            return Err(invalid_argument(
                "questions_and_answers",
                &format!("{} is required", required.name),
            ));
        }
    }
    Ok(Value::Array(answers))
}

/// The location as the scheduled event shows it: a kind the event type offers.
fn checked_location(location: Option<&Value>, kind: &Kind) -> Result<Value, HttpResponse> {
    let Some(location) = location.filter(|l| !l.is_null()) else {
        return Ok(kind
            .locations
            .first()
            .map_or(Value::Null, |offered| json!({ "type": offered })));
    };
    let offered = location
        .get("kind")
        .and_then(Value::as_str)
        .filter(|asked| kind.locations.contains(asked));
    match offered {
        Some(asked) => Ok(json!({
            "type": asked,
            "location": location.get("location").cloned().unwrap_or(Value::Null),
        })),
        None => Err(invalid_argument(
            "location.kind",
            "is not a location of this event type",
        )),
    }
}

/// At most 10 guests, each an email; `tracking` with all six keys when sent.
fn checked_guests_and_tracking(body: &serde_json::Map<String, Value>) -> Result<(), HttpResponse> {
    match body.get("event_guests") {
        None | Some(Value::Null) => {}
        Some(Value::Array(guests))
            if guests.len() <= 10
                && guests
                    .iter()
                    .all(|g| g.as_str().is_some_and(plausible_email)) => {}
        Some(_) => {
            return Err(invalid_argument(
                "event_guests",
                "must be at most 10 valid emails",
            ));
        }
    }
    match body.get("tracking") {
        None | Some(Value::Null) => Ok(()),
        Some(Value::Object(tracking)) if TRACKING.iter().all(|k| tracking.contains_key(*k)) => {
            Ok(())
        }
        Some(_) => Err(invalid_argument(
            "tracking",
            "must hold utm_campaign, utm_source, utm_medium, utm_content, utm_term and salesforce_uuid",
        )),
    }
}
