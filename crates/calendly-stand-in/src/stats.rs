//! `GET /stats`: the calls received per endpoint; `DELETE /stats` zeroes them.

use std::sync::atomic::Ordering;

use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::state::StandIn;

pub async fn stats(state: web::Data<StandIn>) -> HttpResponse {
    let users_me = state.calls.users_me.load(Ordering::Relaxed);
    let event_types = state.calls.event_types.load(Ordering::Relaxed);
    let available_times = state.calls.available_times.load(Ordering::Relaxed);
    let busy_times = state.calls.busy_times.load(Ordering::Relaxed);
    let schedules = state.calls.availability_schedules.load(Ordering::Relaxed);
    let oauth = &state.oauth.calls;
    HttpResponse::Ok().json(json!({
        "users_me": users_me,
        "event_types": event_types,
        "event_type_available_times": available_times,
        "user_busy_times": busy_times,
        "user_availability_schedules": schedules,
        "total": users_me + event_types + available_times + busy_times + schedules,
        "oauth_authorize": oauth.authorize.load(Ordering::Relaxed),
        "oauth_token_authorization_code": oauth.authorization_code.load(Ordering::Relaxed),
        "oauth_token_refresh_token": oauth.refresh_token.load(Ordering::Relaxed),
        "oauth_revoke": oauth.revoke.load(Ordering::Relaxed),
        "oauth_invalid_grant": oauth.invalid_grant.load(Ordering::Relaxed),
        "rate_limited": state.limit.refused.load(Ordering::Relaxed),
        "scope_refusals": state.calls.scope_refusals.load(Ordering::Relaxed),
        "webhook_subscription_reads": state.calls.subscription_reads.load(Ordering::Relaxed),
        "invitee_posts": state.calls.invitee_posts.load(Ordering::Relaxed),
        "invitees_created": state.calls.invitees_created.load(Ordering::Relaxed),
        "event_type_available_times_most_at_once":
            state.calls.available_at_once.most.load(Ordering::SeqCst),
    }))
}

pub async fn reset_stats(state: web::Data<StandIn>) -> HttpResponse {
    state.calls.users_me.store(0, Ordering::Relaxed);
    state.calls.event_types.store(0, Ordering::Relaxed);
    state.calls.available_times.store(0, Ordering::Relaxed);
    state.calls.busy_times.store(0, Ordering::Relaxed);
    state
        .calls
        .availability_schedules
        .store(0, Ordering::Relaxed);
    state.calls.scope_refusals.store(0, Ordering::Relaxed);
    state.calls.subscription_reads.store(0, Ordering::Relaxed);
    state.calls.invitee_posts.store(0, Ordering::Relaxed);
    state.calls.invitees_created.store(0, Ordering::Relaxed);
    state
        .calls
        .available_at_once
        .most
        .store(0, Ordering::SeqCst);
    state.limit.reset();
    state.bookings_limit.reset();
    let oauth = &state.oauth.calls;
    for counter in [
        &oauth.authorize,
        &oauth.authorization_code,
        &oauth.refresh_token,
        &oauth.revoke,
        &oauth.invalid_grant,
    ] {
        counter.store(0, Ordering::Relaxed);
    }
    HttpResponse::NoContent().finish()
}
