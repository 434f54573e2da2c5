//! `GET /event_type_available_times`: a slot every `--slot-minutes` within 09:00–17:00 UTC,
//! as strict as Calendly about its range and its start.

use std::fmt::Write as _;
use std::sync::atomic::Ordering;

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, TimeDelta, Timelike, Utc};
use serde::Deserialize;

use crate::auth::user_with;
use crate::respond::{API, error, invalid_argument};
use crate::state::{StandIn, pause};

#[derive(Debug, Deserialize)]
pub(crate) struct AvailableTimesQuery {
    event_type: Option<String>,
    start_time: Option<String>,
    end_time: Option<String>,
}

pub(crate) fn time(name: &str, value: Option<&str>) -> Result<DateTime<Utc>, HttpResponse> {
    value
        .and_then(|v| DateTime::parse_from_rfc3339(v).ok())
        .map(|t| t.to_utc())
        .ok_or_else(|| invalid_argument(name, "must be a valid ISO 8601 time"))
}

pub(crate) async fn available_times(
    request: HttpRequest,
    query: web::Query<AvailableTimesQuery>,
    state: web::Data<StandIn>,
) -> HttpResponse {
    state.calls.available_times.fetch_add(1, Ordering::Relaxed);
    let _answering = state.calls.available_at_once.enter();
    pause(&state).await;
    let user = match user_with(&request, &state, "event_types:read") {
        Ok(user) => user,
        Err(response) => return response,
    };
    let Some(event_type) = query.event_type.as_deref() else {
        return invalid_argument("event_type", "is required");
    };
    if !event_type.starts_with(&format!("{API}/event_types/{user}-")) {
        return error(
            404,
            "Resource Not Found",
            "The server could not find the requested resource.",
        );
    }
    let (start, end) = match (
        time("start_time", query.start_time.as_deref()),
        time("end_time", query.end_time.as_deref()),
    ) {
        (Ok(start), Ok(end)) => (start, end),
        (Err(response), _) | (_, Err(response)) => return response,
    };
    // As strict as Calendly: a start already past when it is read is refused.
    if start < Utc::now() {
        return invalid_argument("start_time", "must be in the future");
    }
    if end <= start || end - start > TimeDelta::days(31) {
        return invalid_argument(
            "end_time",
            "must be after start_time and within 31 days of it",
        );
    }
    let slug = event_type.rsplit('/').next().unwrap_or_default();
    let seats = crate::catalog::index_of(event_type, &user, usize::MAX)
        .map_or(1, |index| crate::catalog::kind(index).seats);
    let owner = user.to_lowercase();
    // Written directly rather than through serde_json::Value: the stand-in should cost the
    // benchmark as little as it can.
    let mut body = String::with_capacity(16 * 1024);
    body.push_str(r#"{"collection":["#);
    // The first slot boundary at or after start.
    let minutes = state.slot.num_minutes().max(1);
    let since_midnight = i64::from(start.num_seconds_from_midnight()) / 60;
    let mut slot = start
        .with_second(0)
        .and_then(|t| t.with_nanosecond(0))
        .unwrap_or(start)
        + TimeDelta::minutes((minutes - since_midnight % minutes) % minutes);
    if slot < start {
        slot += TimeDelta::minutes(minutes);
    }
    let mut first = true;
    while slot < end {
        let taken = state.hooks.taken(event_type, slot);
        if (9..17).contains(&slot.hour()) && taken < seats {
            if !first {
                body.push(',');
            }
            first = false;
            let _ = write!(
                body,
                r#"{{"status":"available","invitees_remaining":{},"start_time":"{}","scheduling_url":"https://calendly.com/{owner}/{slug}/{}"}}"#,
                seats - taken,
                slot.format("%Y-%m-%dT%H:%M:%S%.6fZ"),
                slot.format("%Y-%m-%dT%H:%M:%SZ"),
            );
        }
        slot += TimeDelta::minutes(minutes);
    }
    body.push_str("]}");
    HttpResponse::Ok()
        .content_type("application/json")
        .body(body)
}
