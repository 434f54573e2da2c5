//! What a booking page also draws: `GET /user_busy_times` (at most 7 days a call, as Calendly)
//! and `GET /user_availability_schedules`, for the token's own user.

use std::sync::atomic::Ordering;

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{Datelike, TimeDelta, Timelike};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::user_with;
use crate::available::time;
use crate::respond::{API, error, invalid_argument};
use crate::state::{StandIn, pause};

#[derive(Debug, Deserialize)]
pub struct BusyTimesQuery {
    user: Option<String>,
    start_time: Option<String>,
    end_time: Option<String>,
}

/// The user's own URI, or Calendly's 403 for another user's.
fn own(user: &str, asked: Option<&str>) -> Result<String, HttpResponse> {
    let uri = format!("{API}/users/{user}");
    match asked {
        Some(asked) if asked == uri => Ok(uri),
        Some(_) => Err(error(
            403,
            "Permission Denied",
            "This user is not in your organization",
        )),
        None => Err(invalid_argument("user", "is required")),
    }
}

/// One busy half hour a day, at 12:00 UTC, within the range (a Calendly event), and an
/// external one at 15:00 UTC on Wednesdays.
pub async fn busy_times(
    request: HttpRequest,
    query: web::Query<BusyTimesQuery>,
    state: web::Data<StandIn>,
) -> HttpResponse {
    state.calls.busy_times.fetch_add(1, Ordering::Relaxed);
    pause(&state).await;
    let user = match user_with(&request, &state, "availability:read")
        .and_then(|u| own(&u, query.user.as_deref()))
    {
        Ok(user) => user,
        Err(response) => return response,
    };
    let (start, end) = match (
        time("start_time", query.start_time.as_deref()),
        time("end_time", query.end_time.as_deref()),
    ) {
        (Ok(start), Ok(end)) => (start, end),
        (Err(response), _) | (_, Err(response)) => return response,
    };
    if start < chrono::Utc::now() {
        return invalid_argument("start_time", "must be in the future");
    }
    if end <= start || end - start > TimeDelta::days(7) {
        return invalid_argument(
            "end_time",
            "must be after start_time and within 7 days of it",
        );
    }
    let format = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string();
    let mut collection: Vec<Value> = Vec::new();
    let mut day = start.date_naive();
    while day <= end.date_naive() {
        let noon = day.and_hms_opt(12, 0, 0).map(|t| t.and_utc());
        if let Some(noon) = noon.filter(|t| *t >= start && *t + TimeDelta::minutes(30) <= end) {
            collection.push(json!({
                "type": "calendly",
                "start_time": format(noon),
                "end_time": format(noon + TimeDelta::minutes(30)),
                "buffered_start_time": format(noon - TimeDelta::minutes(15)),
                "buffered_end_time": format(noon + TimeDelta::minutes(45)),
                "event": { "uri": format!("{API}/scheduled_events/{}-{}", user.rsplit('/').next().unwrap_or_default(), day.format("%Y%m%d")) }
            }));
        }
        let three = day.and_hms_opt(15, 0, 0).map(|t| t.and_utc());
        if let Some(three) = three.filter(|t| {
            t.weekday() == chrono::Weekday::Wed
                && t.hour() == 15
                && *t >= start
                && *t + TimeDelta::hours(1) <= end
        }) {
            collection.push(json!({
                "type": "external",
                "start_time": format(three),
                "end_time": format(three + TimeDelta::hours(1))
            }));
        }
        day = day.succ_opt().unwrap_or(day);
        if day == chrono::NaiveDate::MAX {
            break;
        }
    }
    HttpResponse::Ok().json(json!({ "collection": collection }))
}

#[derive(Debug, Deserialize)]
pub struct SchedulesQuery {
    user: Option<String>,
}

/// Working hours, Monday to Friday 09:00–17:00 in the user's zone, as Calendly's example.
pub async fn availability_schedules(
    request: HttpRequest,
    query: web::Query<SchedulesQuery>,
    state: web::Data<StandIn>,
) -> HttpResponse {
    state
        .calls
        .availability_schedules
        .fetch_add(1, Ordering::Relaxed);
    pause(&state).await;
    let user = match user_with(&request, &state, "availability:read")
        .and_then(|u| own(&u, query.user.as_deref()))
    {
        Ok(user) => user,
        Err(response) => return response,
    };
    let day = |wday: &str, open: bool| {
        let intervals = if open {
            json!([{ "from": "09:00", "to": "17:00" }])
        } else {
            json!([])
        };
        json!({ "type": "wday", "wday": wday, "intervals": intervals })
    };
    let rules: Vec<Value> = [
        ("sunday", false),
        ("monday", true),
        ("tuesday", true),
        ("wednesday", true),
        ("thursday", true),
        ("friday", true),
        ("saturday", false),
    ]
    .into_iter()
    .map(|(wday, open)| day(wday, open))
    .collect();
    HttpResponse::Ok().json(json!({
        "collection": [{
            "uri": format!("{API}/user_availability_schedule/{}-working-hours", user.rsplit('/').next().unwrap_or_default()),
            "default": true,
            "name": "Working Hours",
            "user": user,
            "timezone": "Europe/Berlin",
            "rules": rules
        }]
    }))
}
