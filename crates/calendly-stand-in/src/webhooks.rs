//! Calendly's webhook subscriptions, and an admin side that changes things and delivers the
//! signed webhooks for them:
//! - `POST /webhook_subscriptions` (scope `user`, for the token's own user; 409 when one with
//!   the URL exists; 403 with `--no-webhooks`, as a plan without webhooks), `GET
//!   /webhook_subscriptions?user=…`, `DELETE /webhook_subscriptions/{uuid}`;
//! - `POST /admin/book {"event_type", "start_time"}`: books that slot (it leaves the event
//!   type's available times) and delivers `invitee.created`;
//! - `POST /admin/change_event_type {"event_type"}`: renames it and delivers
//!   `event_type.updated`.
//!
//! Deliveries go to every subscription of the event type's owner, signed
//! `Calendly-Webhook-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`; the
//! admin call answers once each has answered, with their statuses.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, PoisonError};

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, SecondsFormat, Utc};
use hmac::{Hmac, Mac};
use rand::Rng as _;
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::Sha256;

use crate::{API, StandIn, error, invalid_argument, user_of};

#[derive(Debug, Clone)]
struct Subscription {
    uuid: String,
    url: String,
    user: String,
    organization: String,
    events: Vec<String>,
    signing_key: String,
    created_at: String,
}

impl Subscription {
    fn resource(&self) -> Value {
        json!({
            "uri": format!("{API}/webhook_subscriptions/{}", self.uuid),
            "callback_url": self.url,
            "created_at": self.created_at,
            "updated_at": self.created_at,
            "retry_started_at": null,
            "state": "active",
            "events": self.events,
            "scope": "user",
            "organization": self.organization,
            "user": self.user,
            "creator": self.user,
        })
    }
}

/// The subscriptions, the booked slots and the changed event types.
#[derive(Debug)]
pub(crate) struct Hooks {
    enabled: bool,
    subscriptions: Mutex<Vec<Subscription>>,
    /// (event type URI, start time) of each booked slot.
    booked: Mutex<HashSet<(String, DateTime<Utc>)>>,
    /// Times each event type was changed.
    changes: Mutex<HashMap<String, u32>>,
    client: reqwest::Client,
}

impl Hooks {
    pub(crate) fn new(enabled: bool) -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        Self {
            enabled,
            subscriptions: Mutex::new(Vec::new()),
            booked: Mutex::new(HashSet::new()),
            changes: Mutex::new(HashMap::new()),
            client: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(10))
                .build()
                .unwrap_or_default(),
        }
    }

    /// Whether the slot of `event_type` at `start` is booked.
    pub(crate) fn is_booked(&self, event_type: &str, start: DateTime<Utc>) -> bool {
        let booked = self.booked.lock().unwrap_or_else(PoisonError::into_inner);
        !booked.is_empty() && booked.contains(&(event_type.to_owned(), start))
    }

    /// How many times `event_type` was changed.
    pub(crate) fn changes_of(&self, event_type: &str) -> u32 {
        self.changes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(event_type)
            .copied()
            .unwrap_or(0)
    }

    fn subscriptions(&self) -> std::sync::MutexGuard<'_, Vec<Subscription>> {
        self.subscriptions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// The URI of the user a request's token stands for, or Calendly's 401.
fn user_uri_of(request: &HttpRequest, state: &StandIn) -> Result<String, HttpResponse> {
    user_of(request, state).map(|user| format!("{API}/users/{user}"))
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
    let user = match user_uri_of(&request, &state) {
        Ok(user) => user,
        Err(response) => return response,
    };
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
        signing_key: body.signing_key.unwrap_or_default(),
        created_at: Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true),
    };
    let resource = subscription.resource();
    subscriptions.push(subscription);
    HttpResponse::Created().json(json!({ "resource": resource }))
}

pub(crate) async fn list(request: HttpRequest, state: web::Data<StandIn>) -> HttpResponse {
    let user = match user_uri_of(&request, &state) {
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

pub(crate) async fn delete(
    request: HttpRequest,
    uuid: web::Path<String>,
    state: web::Data<StandIn>,
) -> HttpResponse {
    let user = match user_uri_of(&request, &state) {
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
fn owner_of(event_type: &str) -> Option<String> {
    let rest = event_type.strip_prefix(&format!("{API}/event_types/"))?;
    let (user, _) = rest.rsplit_once('-')?;
    Some(format!("{API}/users/{user}"))
}

/// Delivers `event` with `payload` to every subscription of `user` for it: each URL and the
/// status it answered (0: no answer).
async fn deliver(state: &StandIn, user: &str, event: &str, payload: Value) -> Vec<Value> {
    let targets: Vec<Subscription> = state
        .hooks
        .subscriptions()
        .iter()
        .filter(|s| s.user == user && s.events.iter().any(|e| e == event))
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
        answers.push(json!({ "url": target.url, "status": status }));
    }
    answers
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
    state
        .hooks
        .booked
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert((body.event_type.clone(), start));
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
