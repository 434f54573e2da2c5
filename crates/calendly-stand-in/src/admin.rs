//! The stand-in's admin side: changes made at "Calendly" (a booking, an event type changed,
//! subscriptions disabled or refused), delivering the signed webhooks for them.

use std::sync::PoisonError;
use std::sync::atomic::Ordering;

use actix_web::{HttpResponse, web};
use chrono::{DateTime, SecondsFormat};
use serde::Deserialize;
use serde_json::json;

use crate::respond::invalid_argument;
use crate::state::StandIn;
use crate::webhooks::{deliver, owner_of};

#[derive(Debug, Deserialize)]
pub(crate) struct DisableSubscriptions {
    user: String,
}

/// `POST /admin/disable_subscriptions {"user"}`: disables every subscription of the user (a
/// URI), as Calendly does after a day of failed deliveries: how many.
pub(crate) async fn disable_subscriptions(
    body: web::Json<DisableSubscriptions>,
    state: web::Data<StandIn>,
) -> HttpResponse {
    let disabled = state.hooks.disable_all_of(&body.user);
    HttpResponse::Ok().json(json!({ "disabled": disabled }))
}

#[derive(Debug, Deserialize)]
pub(crate) struct RefuseSubscriptions {
    count: u32,
}

/// `POST /admin/refuse_subscriptions {"count"}`: the next `count` subscription requests fail
/// with 500 (`0`: none).
pub(crate) async fn refuse_subscriptions(
    body: web::Json<RefuseSubscriptions>,
    state: web::Data<StandIn>,
) -> HttpResponse {
    state.hooks.refusals.store(body.count, Ordering::Relaxed);
    HttpResponse::Ok().json(json!({ "refusing": body.count }))
}

#[derive(Debug, Deserialize)]
pub(crate) struct CutAnswers {
    count: u64,
    delay_ms: u64,
}

/// `POST /admin/cut_booking_answers {"count", "delay_ms"}`: the next `count` bookings are
/// made, then answered only after `delay_ms` (past a caller's deadline, the answer is lost to
/// it while the booking stands).
pub(crate) async fn cut_booking_answers(
    body: web::Json<CutAnswers>,
    state: web::Data<StandIn>,
) -> HttpResponse {
    state
        .calls
        .late_answer_ms
        .store(body.delay_ms, Ordering::Relaxed);
    state
        .calls
        .late_answers
        .store(body.count, Ordering::Relaxed);
    HttpResponse::Ok().json(json!({ "cutting": body.count }))
}

#[derive(Debug, Deserialize)]
pub(crate) struct Booking {
    event_type: String,
    start_time: String,
}

pub(crate) async fn book(body: web::Json<Booking>, state: web::Data<StandIn>) -> HttpResponse {
    let Ok(start) = DateTime::parse_from_rfc3339(&body.start_time).map(|t| t.to_utc()) else {
        return invalid_argument("start_time", "must be a valid ISO 8601 time");
    };
    let Some(owner) = owner_of(&body.event_type) else {
        return invalid_argument("event_type", "is not an event type of this stand-in");
    };
    // One seat: the whole time of a one-seat event type.
    let seats = body
        .event_type
        .rsplit('-')
        .next()
        .and_then(|index| index.parse().ok())
        .map_or(1, |index| crate::catalog::kind(index).seats);
    state.hooks.take_seat(&body.event_type, start, seats);
    let payload = json!({
        "event_type": body.event_type,
        "scheduled_event": {"start_time": start.to_rfc3339_opts(SecondsFormat::Micros, true),
                            "event_type": body.event_type, "status": "active"},
        "status": "active",
        "email": "invitee@example.com",
        "name": "An Invitee",
    });
    let deliveries = deliver(&state, &owner, "invitee.created", payload).await;
    HttpResponse::Ok().json(json!({ "deliveries": deliveries }))
}

#[derive(Debug, Deserialize)]
pub(crate) struct Change {
    event_type: String,
}

pub(crate) async fn change_event_type(
    body: web::Json<Change>,
    state: web::Data<StandIn>,
) -> HttpResponse {
    let Some(owner) = owner_of(&body.event_type) else {
        return invalid_argument("event_type", "is not an event type of this stand-in");
    };
    *state
        .hooks
        .changes
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .entry(body.event_type.clone())
        .or_default() += 1;
    let payload = json!({ "uri": body.event_type });
    let deliveries = deliver(&state, &owner, "event_type.updated", payload).await;
    HttpResponse::Ok().json(json!({ "deliveries": deliveries }))
}
