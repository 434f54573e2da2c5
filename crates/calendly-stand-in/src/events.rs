//! `GET /scheduled_events`, `GET /scheduled_events/{uuid}`,
//! `GET /scheduled_events/{uuid}/invitees` and `POST /scheduled_events/{uuid}/cancellation`,
//! as Calendly answers them: another user's event is 403, an unknown one 404; a canceled event
//! cannot be canceled again (403), nor one already past; a cancellation frees its time and is
//! delivered to the host's subscriptions as `invitee.canceled` for each invitee.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::paused_caller;
use crate::respond::{API, answered, error, invalid_argument, page_of, paging};
use crate::scheduled::{ScheduledEvent, written};
use crate::state::StandIn;
use crate::webhooks::deliver;

fn not_found() -> HttpResponse {
    error(
        404,
        "Resource Not Found",
        "The server could not find the requested resource.",
    )
}

/// The event `uuid` of `user`, through `read`; Calendly's 404 or 403 otherwise.
fn of_user<T>(
    state: &StandIn,
    uuid: &str,
    user: &str,
    read: impl FnOnce(&mut ScheduledEvent) -> T,
) -> Result<T, HttpResponse> {
    let mut events = state.scheduled.events();
    let event = events
        .iter_mut()
        .find(|event| event.uuid == uuid)
        .ok_or_else(not_found)?;
    if event.owner != format!("{API}/users/{user}") {
        return Err(error(
            403,
            "Permission Denied",
            "You are not allowed to view this event",
        ));
    }
    Ok(read(event))
}

pub(crate) async fn one(
    request: HttpRequest,
    uuid: web::Path<String>,
    state: web::Data<StandIn>,
) -> HttpResponse {
    answered(async {
        let user = paused_caller(&request, &state, "scheduled_events:read").await?;
        let resource = of_user(&state, &uuid, &user, |event| event.resource())?;
        Ok(HttpResponse::Ok().json(json!({ "resource": resource })))
    })
    .await
}

pub(crate) async fn invitees(
    request: HttpRequest,
    uuid: web::Path<String>,
    state: web::Data<StandIn>,
) -> HttpResponse {
    answered(async {
        let user = paused_caller(&request, &state, "scheduled_events:read").await?;
        let collection = of_user(&state, &uuid, &user, |event| event.invitees.clone())?;
        Ok(HttpResponse::Ok().json(json!({
            "collection": collection,
            "pagination": page_of(collection.len(), None),
        })))
    })
    .await
}

#[derive(Debug, Deserialize)]
pub(crate) struct Cancellation {
    reason: Option<String>,
}

pub(crate) async fn cancel(
    request: HttpRequest,
    uuid: web::Path<String>,
    body: Option<web::Json<Cancellation>>,
    state: web::Data<StandIn>,
) -> HttpResponse {
    let user = match paused_caller(&request, &state, "scheduled_events:write").await {
        Ok(user) => user,
        Err(response) => return response,
    };
    let reason = body.and_then(|body| body.into_inner().reason);
    if reason.as_ref().is_some_and(|r| r.chars().count() > 10_000) {
        return invalid_argument("reason", "must be at most 10000 characters");
    }
    let now = Utc::now();
    let canceled = of_user(&state, &uuid, &user, |event| {
        if event.cancellation.is_some() {
            return Err("Event is already canceled");
        }
        if event.start <= now {
            return Err("Event in the past");
        }
        let cancellation = json!({
            "canceled_by": "host",
            "reason": reason,
            "canceler_type": "host",
            "created_at": written(now),
        });
        event.cancellation = Some(cancellation.clone());
        let mut freed = 0;
        for invitee in &mut event.invitees {
            if invitee["status"] == "active" {
                invitee["status"] = json!("canceled");
                invitee["canceled"] = json!(true);
                invitee["cancellation"] = cancellation.clone();
                freed += 1;
            }
        }
        Ok((cancellation, freed, event.clone()))
    });
    let (cancellation, freed, event) = match canceled {
        Ok(Ok(canceled)) => canceled,
        Ok(Err(message)) => return error(403, "Permission Denied", message),
        Err(response) => return response,
    };
    for _ in 0..freed {
        state.hooks.give_seat_back(&event.event_type, event.start);
    }
    let state = web::Data::clone(&state);
    actix_web::rt::spawn(async move {
        for invitee in &event.invitees {
            let mut payload = invitee.clone();
            payload["scheduled_event"] = event.resource();
            deliver(&state, &event.owner, "invitee.canceled", payload).await;
        }
    });
    HttpResponse::Created().json(json!({ "resource": cancellation }))
}

#[derive(Debug, Deserialize)]
pub(crate) struct ListQuery {
    user: Option<String>,
    min_start_time: Option<String>,
    max_start_time: Option<String>,
    status: Option<String>,
    invitee_email: Option<String>,
    count: Option<usize>,
    page_token: Option<String>,
    sort: Option<String>,
}

/// `GET /scheduled_events?user=…`: the caller's own events (another user: 403), filtered by
/// start (`min_start_time` inclusive, `max_start_time` exclusive), status and invitee email,
/// sorted by start, `count` (1–100) a page.
pub(crate) async fn list(
    request: HttpRequest,
    query: web::Query<ListQuery>,
    state: web::Data<StandIn>,
) -> HttpResponse {
    let user = match paused_caller(&request, &state, "scheduled_events:read").await {
        Ok(user) => user,
        Err(response) => return response,
    };
    let owner = format!("{API}/users/{user}");
    if query.user.as_deref() != Some(owner.as_str()) {
        return error(
            403,
            "Permission Denied",
            "This user is not in your organization",
        );
    }
    let time =
        |name: &str, value: Option<&String>| -> Result<Option<DateTime<Utc>>, HttpResponse> {
            value
                .map(|v| {
                    DateTime::parse_from_rfc3339(v)
                        .map(|t| t.to_utc())
                        .map_err(|_| invalid_argument(name, "must be a valid ISO 8601 time"))
                })
                .transpose()
        };
    let (min, max) = match (
        time("min_start_time", query.min_start_time.as_ref()),
        time("max_start_time", query.max_start_time.as_ref()),
    ) {
        (Ok(min), Ok(max)) => (min, max),
        (Err(response), _) | (_, Err(response)) => return response,
    };
    if let Some(status) = query.status.as_deref()
        && !matches!(status, "active" | "canceled")
    {
        return invalid_argument("status", "must be active or canceled");
    }
    let descending = match query.sort.as_deref() {
        None | Some("start_time:asc") => false,
        Some("start_time:desc") => true,
        Some(_) => return invalid_argument("sort", "must be start_time:asc or start_time:desc"),
    };
    let (offset, count) = match paging(query.count, query.page_token.as_deref()) {
        Ok(paging) => paging,
        Err(response) => return response,
    };
    let status = query.status.as_deref();
    let email = query.invitee_email.as_deref();
    let mut found: Vec<(DateTime<Utc>, Value)> = state
        .scheduled
        .events()
        .iter()
        .filter(|e| e.owner == owner)
        .filter(|e| min.is_none_or(|min| e.start >= min) && max.is_none_or(|max| e.start < max))
        .filter(|e| status.is_none_or(|s| (s == "canceled") == e.cancellation.is_some()))
        .filter(|e| email.is_none_or(|email| e.invitees.iter().any(|i| i["email"] == email)))
        .map(|e| (e.start, e.resource()))
        .collect();
    found.sort_by_key(|(start, _)| *start);
    if descending {
        found.reverse();
    }
    let end = (offset + count).min(found.len());
    let collection: Vec<Value> = found
        .get(offset..end)
        .unwrap_or_default()
        .iter()
        .map(|(_, e)| e.clone())
        .collect();
    let next = (end < found.len()).then(|| end.to_string());
    HttpResponse::Ok().json(json!({
        "collection": collection,
        "pagination": page_of(collection.len(), next),
    }))
}
