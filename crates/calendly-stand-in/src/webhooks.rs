//! Calendly's webhook subscriptions, and an admin side that changes things and delivers the
//! signed webhooks for them:
//! - `POST /webhook_subscriptions` (scope `user`, for the token's own user; 409 when one with
//!   the URL exists; 403 with `--no-webhooks`, as a plan without webhooks), `GET
//!   /webhook_subscriptions?user=…`, `GET` and `DELETE /webhook_subscriptions/{uuid}`;
//!   reading needs the `webhooks:read` scope, making and deleting `webhooks:write`;
//! - as Calendly, a subscription made with a personal access token is signed with the
//!   `signing_key` sent along, one made with an OAuth access token with the OAuth
//!   application's webhook signing key (`--oauth-webhook-signing-key`), whatever was sent;
//! - a subscription whose deliveries keep failing for `--webhook-disable-after-secs` (Calendly:
//!   a day) is disabled (`"state": "disabled"`, no more deliveries); one answered 410 is
//!   deleted; `POST /admin/disable_subscriptions {"user"}` disables a user's at once, and
//!   `POST /admin/refuse_subscriptions {"count"}` fails the next `count` subscription requests
//!   with 500;
//! - `POST /admin/book {"event_type", "start_time"}`: books that slot (it leaves the event
//!   type's available times) and delivers `invitee.created`;
//! - `POST /admin/change_event_type {"event_type"}`: renames it and delivers
//!   `event_type.updated`.
//!
//! Deliveries go to every subscription of the event type's owner, signed
//! `Calendly-Webhook-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`; the
//! admin call answers once each has answered, with their statuses.

use std::sync::atomic::Ordering;

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{SecondsFormat, Utc};
use hmac::{Hmac, Mac};
use rand::Rng as _;
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::Sha256;

use crate::auth::{caller_with, user_with};
use crate::hooks::Subscription;
use crate::respond::{API, error, invalid_argument};
use crate::state::StandIn;

/// The URI of the user a request's token stands for, when it was granted `scope`; else
/// Calendly's 401 or 403.
fn user_uri_with(
    request: &HttpRequest,
    state: &StandIn,
    scope: &str,
) -> Result<String, HttpResponse> {
    user_with(request, state, scope).map(|user| format!("{API}/users/{user}"))
}

#[derive(Debug, Deserialize)]
pub(crate) struct NewSubscription {
    url: Option<String>,
    events: Option<Vec<String>>,
    organization: Option<String>,
    user: Option<String>,
    scope: Option<String>,
    signing_key: Option<String>,
}

pub(crate) async fn create(
    request: HttpRequest,
    body: web::Json<NewSubscription>,
    state: web::Data<StandIn>,
) -> HttpResponse {
    let caller = match caller_with(&request, &state, "webhooks:write") {
        Ok(caller) => caller,
        Err(response) => return response,
    };
    let user = format!("{API}/users/{}", caller.user);
    let refused = state
        .hooks
        .refusals
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1));
    if refused.is_ok() {
        return error(500, "Internal Server Error", "Something went wrong");
    }
    let body = body.into_inner();
    let (Some(url), Some(events), Some(organization)) = (body.url, body.events, body.organization)
    else {
        return invalid_argument("url", "url, events and organization are required");
    };
    if body.scope.as_deref() != Some("user") || body.user.as_deref() != Some(user.as_str()) {
        return error(403, "Permission Denied", "You do not have permission");
    }
    if !state.hooks.enabled {
        return error(
            403,
            "Permission Denied",
            "Please upgrade your Calendly account to Professional",
        );
    }
    let mut subscriptions = state.hooks.subscriptions();
    if subscriptions.iter().any(|s| s.url == url && s.user == user) {
        return error(409, "Already Exists", "Hook with this url already exists");
    }
    let bytes: [u8; 8] = rand::rng().random();
    let subscription = Subscription {
        uuid: bytes.iter().map(|b| format!("{b:02X}")).collect(),
        url,
        user,
        organization,
        events,
        // As Calendly: the key sent along is used for personal access tokens only.
        signing_key: if caller.oauth {
            state.hooks.application_key.clone()
        } else {
            body.signing_key.unwrap_or_default()
        },
        created_at: Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true),
        disabled: false,
        failing_since: None,
    };
    let resource = subscription.resource();
    subscriptions.push(subscription);
    HttpResponse::Created().json(json!({ "resource": resource }))
}

pub(crate) async fn list(request: HttpRequest, state: web::Data<StandIn>) -> HttpResponse {
    let user = match user_uri_with(&request, &state, "webhooks:read") {
        Ok(user) => user,
        Err(response) => return response,
    };
    let collection: Vec<Value> = state
        .hooks
        .subscriptions()
        .iter()
        .filter(|s| s.user == user)
        .map(Subscription::resource)
        .collect();
    HttpResponse::Ok().json(json!({
        "collection": collection,
        "pagination": {"count": collection.len(), "next_page": null, "previous_page": null,
                       "next_page_token": null, "previous_page_token": null}
    }))
}

/// `GET /webhook_subscriptions/{uuid}`: one of the caller's subscriptions, with its state.
pub(crate) async fn show(
    request: HttpRequest,
    uuid: web::Path<String>,
    state: web::Data<StandIn>,
) -> HttpResponse {
    state
        .calls
        .subscription_reads
        .fetch_add(1, Ordering::Relaxed);
    let user = match user_uri_with(&request, &state, "webhooks:read") {
        Ok(user) => user,
        Err(response) => return response,
    };
    let subscriptions = state.hooks.subscriptions();
    match subscriptions
        .iter()
        .find(|s| s.uuid == *uuid && s.user == user)
    {
        Some(subscription) => {
            HttpResponse::Ok().json(json!({ "resource": subscription.resource() }))
        }
        None => error(
            404,
            "Resource Not Found",
            "The server could not find the requested resource.",
        ),
    }
}

pub(crate) async fn delete(
    request: HttpRequest,
    uuid: web::Path<String>,
    state: web::Data<StandIn>,
) -> HttpResponse {
    let user = match user_uri_with(&request, &state, "webhooks:write") {
        Ok(user) => user,
        Err(response) => return response,
    };
    let mut subscriptions = state.hooks.subscriptions();
    let before = subscriptions.len();
    subscriptions.retain(|s| !(s.uuid == *uuid && s.user == user));
    if subscriptions.len() == before {
        return error(
            404,
            "Resource Not Found",
            "The server could not find the requested resource.",
        );
    }
    HttpResponse::NoContent().finish()
}

/// The user an event type of this stand-in belongs to (`…/event_types/<user>-<i>`).
pub(crate) fn owner_of(event_type: &str) -> Option<String> {
    let rest = event_type.strip_prefix(&format!("{API}/event_types/"))?;
    let (user, _) = rest.rsplit_once('-')?;
    Some(format!("{API}/users/{user}"))
}

/// Delivers `event` with `payload` to every subscription of `user` for it: each URL and the
/// status it answered (0: no answer).
pub(crate) async fn deliver(
    state: &StandIn,
    user: &str,
    event: &str,
    payload: Value,
) -> Vec<Value> {
    let targets: Vec<Subscription> = state
        .hooks
        .subscriptions()
        .iter()
        .filter(|s| !s.disabled && s.user == user && s.events.iter().any(|e| e == event))
        .cloned()
        .collect();
    let body = json!({
        "event": event,
        "created_at": Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true),
        "created_by": user,
        "payload": payload,
    })
    .to_string();
    let mut answers = Vec::new();
    for target in targets {
        let t = Utc::now().timestamp();
        let mut mac = Hmac::<Sha256>::new_from_slice(target.signing_key.as_bytes())
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(format!("{t}.{body}").as_bytes());
        let v1: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let status = state
            .hooks
            .client
            .post(&target.url)
            .header("content-type", "application/json")
            .header("calendly-webhook-signature", format!("t={t},v1={v1}"))
            .body(body.clone())
            .send()
            .await
            .map_or(0, |response| response.status().as_u16());
        state.hooks.answered(&target.uuid, status, Utc::now());
        answers.push(json!({ "url": target.url, "status": status }));
    }
    answers
}
