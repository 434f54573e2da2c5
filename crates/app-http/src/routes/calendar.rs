//! What a booking page draws beside the slots: `GET /calendly/busy-times` and
//! `GET /calendly/availability-schedules`.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use utoipa::openapi::schema::SchemaFormat;
use utoipa::openapi::{KnownFormat, RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};

use super::availability::required_times;
use super::raw_json::{calendly_object, json_list};
use crate::auth::AuthenticatedUser;
use crate::error::{
    ApiError, CALENDLY_BAD_ARGUMENT, CALENDLY_CONFLICT, CALENDLY_FORBIDDEN, CALENDLY_NOT_CONNECTED,
    CALENDLY_NOT_FOUND, CALENDLY_REAUTH_REQUIRED, ErrorKind, INVALID_PARAMETER, MISSING_PARAMETER,
    URI_TOO_LONG,
};
use crate::state::AppState;

/// The errors of `GET /calendly/busy-times`, beyond those of every authenticated operation
/// that calls Calendly.
pub const BUSY_TIMES_ERRORS: &[ErrorKind] = &[
    INVALID_PARAMETER,
    MISSING_PARAMETER,
    URI_TOO_LONG,
    CALENDLY_NOT_CONNECTED,
    CALENDLY_REAUTH_REQUIRED,
    CALENDLY_BAD_ARGUMENT,
    CALENDLY_FORBIDDEN,
    CALENDLY_NOT_FOUND,
    CALENDLY_CONFLICT,
];

/// The errors of `GET /calendly/availability-schedules`, beyond those of every authenticated
/// operation that calls Calendly.
pub const SCHEDULES_ERRORS: &[ErrorKind] = &[
    CALENDLY_NOT_CONNECTED,
    CALENDLY_REAUTH_REQUIRED,
    CALENDLY_BAD_ARGUMENT,
    CALENDLY_FORBIDDEN,
    CALENDLY_NOT_FOUND,
    CALENDLY_CONFLICT,
];

#[derive(Debug, Deserialize)]
pub struct RangeParams {
    start_time: Option<String>,
    end_time: Option<String>,
}

// Describes the bodies for the OpenAPI document; `json_list` writes them.
/// The busy times.
#[derive(ToSchema)]
#[expect(dead_code, reason = "describes the body in the OpenAPI document only")]
pub struct BusyTimes {
    /// Calendly's busy times, sorted by `start_time`, each once.
    collection: Vec<BusyTime>,
}

/// The availability schedules.
#[derive(ToSchema)]
#[expect(dead_code, reason = "describes the body in the OpenAPI document only")]
pub struct AvailabilitySchedules {
    /// Calendly's availability schedules of the user.
    collection: Vec<AvailabilitySchedule>,
}

/// When the user is busy between two times: their Calendly events and those of the calendars
/// Calendly checks.
#[utoipa::path(
    get,
    path = "/calendly/busy-times",
    operation_id = "busy_times",
    tag = "calendly",
    security(("bearer" = [])),
    params(
        ("start_time" = DateTime<Utc>, Query, description = "RFC 3339, any offset; a time in the past is moved to now.", example = "2030-01-02T00:00:00Z"),
        ("end_time" = DateTime<Utc>, Query, description = "RFC 3339, after `start_time`, at most `limits.max_range_days` (365) later.", example = "2030-01-16T00:00:00Z"),
    ),
    responses((status = 200, description = "The busy times; ranges over `calendly.max_busy_days_per_call` (7) days are split and merged.", body = BusyTimes))
)]
pub async fn busy_times(
    state: web::Data<AppState>,
    AuthenticatedUser(user_id): AuthenticatedUser,
    params: web::Query<RangeParams>,
) -> Result<HttpResponse, ApiError> {
    let params = params.into_inner();
    let (start, end) = required_times(params.start_time, params.end_time)?;
    let times = state.service.busy_times(&user_id, start, end).await?;
    Ok(json_list(
        r#"{"collection":"#,
        times.iter().map(|t| &t.json),
        "}",
    ))
}

/// The user's availability schedules on Calendly.
#[utoipa::path(
    get,
    path = "/calendly/availability-schedules",
    operation_id = "availability_schedules",
    tag = "calendly",
    security(("bearer" = [])),
    responses((status = 200, description = "The availability schedules, each as Calendly returned it.", body = AvailabilitySchedules))
)]
pub async fn availability_schedules(
    state: web::Data<AppState>,
    AuthenticatedUser(user_id): AuthenticatedUser,
) -> Result<HttpResponse, ApiError> {
    let schedules = state.service.availability_schedules(&user_id).await?;
    Ok(json_list(r#"{"collection":"#, schedules.iter(), "}"))
}

/// A Calendly busy time, passed on as Calendly wrote it.
#[derive(Debug)]
pub struct BusyTime;

impl PartialSchema for BusyTime {
    fn schema() -> RefOr<Schema> {
        let time = || Some(SchemaFormat::KnownFormat(KnownFormat::DateTime));
        calendly_object(
            "A Calendly busy time as Calendly returned it (`type` is `calendly` or `external`); fields beyond those named here are kept.",
            &[("type", None), ("start_time", time()), ("end_time", time())],
            &[],
        )
    }
}

impl ToSchema for BusyTime {}

/// A Calendly availability schedule, passed on as Calendly wrote it.
#[derive(Debug)]
pub struct AvailabilitySchedule;

impl PartialSchema for AvailabilitySchedule {
    fn schema() -> RefOr<Schema> {
        calendly_object(
            "A Calendly availability schedule as Calendly returned it (`rules`, `default` and any other field kept).",
            &[
                ("uri", Some(SchemaFormat::Custom("uri".into()))),
                ("name", None),
                ("timezone", None),
            ],
            &[],
        )
    }
}

impl ToSchema for AvailabilitySchedule {}
