//! `GET /calendly/check-availability?start_time=…&end_time=…[&event_type=URI]`.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, NaiveDateTime, Utc};
use domain::{AvailabilityQuery, EventTypeUri};
use serde::Deserialize;

use utoipa::openapi::schema::SchemaFormat;
use utoipa::openapi::{RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};

use super::raw_json::{calendly_object, json_shared};
use crate::auth::AuthenticatedUser;
use crate::error::{
    ApiError, CALENDLY_BAD_ARGUMENT, CALENDLY_CONFLICT, CALENDLY_FORBIDDEN, CALENDLY_NOT_CONNECTED,
    CALENDLY_NOT_FOUND, CALENDLY_REAUTH_REQUIRED, EVENT_TYPE_NOT_FOUND, ErrorKind,
    INVALID_PARAMETER, MISSING_PARAMETER, NO_EVENT_TYPES, URI_TOO_LONG,
};
use crate::state::AppState;

/// The errors of `GET /calendly/check-availability`, beyond those of every authenticated
/// operation that calls Calendly.
pub const ERRORS: &[ErrorKind] = &[
    INVALID_PARAMETER,
    MISSING_PARAMETER,
    URI_TOO_LONG,
    CALENDLY_NOT_CONNECTED,
    NO_EVENT_TYPES,
    EVENT_TYPE_NOT_FOUND,
    CALENDLY_REAUTH_REQUIRED,
    CALENDLY_BAD_ARGUMENT,
    CALENDLY_FORBIDDEN,
    CALENDLY_NOT_FOUND,
    CALENDLY_CONFLICT,
];

#[derive(Debug, Deserialize)]
pub struct AvailabilityParams {
    start_time: Option<String>,
    end_time: Option<String>,
    event_type: Option<String>,
}

// Describes the body for the OpenAPI document; `json_list` writes it.
/// The available times.
#[derive(utoipa::ToSchema)]
#[expect(
    dead_code,
    reason = "describes the body in the OpenAPI document only; it is written by json_list"
)]
pub struct Availability {
    /// Calendly's available times, sorted by `start_time`, without duplicates.
    collection: Vec<AvailableTime>,
}

/// When the user is available between two times, for their first event type or `event_type`.
#[utoipa::path(
    get,
    path = "/calendly/check-availability",
    operation_id = "check_availability",
    tag = "calendly",
    security(("bearer" = [])),
    params(
        ("start_time" = DateTime<Utc>, Query, description = "RFC 3339, any offset; a time in the past is moved to now.", example = "2030-01-02T09:00:00Z"),
        ("end_time" = DateTime<Utc>, Query, description = "RFC 3339, after `start_time`, at most `limits.max_range_days` (365) later.", example = "2030-01-09T09:00:00Z"),
        ("event_type" = Option<String>, Query, description = "The URI of one of the user's event types; by default their first.", format = "uri"),
    ),
    responses((status = 200, description = "The available times; longer ranges than Calendly allows in one call are split and merged.", body = Availability))
)]
pub async fn check_availability(
    state: web::Data<AppState>,
    AuthenticatedUser(user_id): AuthenticatedUser,
    params: web::Query<AvailabilityParams>,
) -> Result<HttpResponse, ApiError> {
    let params = params.into_inner();
    let (start, end) = required_times(params.start_time, params.end_time)?;
    let query = AvailabilityQuery {
        start,
        end,
        event_type: params
            .event_type
            .map(|uri| {
                EventTypeUri::parse(uri)
                    .map_err(|e| ApiError::InvalidParameter(format!("event_type: {e}.")))
            })
            .transpose()?,
    };
    let times = state.service.check_availability(&user_id, query).await?;
    Ok(json_shared(r#"{"collection":"#, times.json_pieces(), "}"))
}

/// `start_time` and `end_time`, both required (422 when one is missing).
pub(super) fn required_times(
    start: Option<String>,
    end: Option<String>,
) -> Result<(DateTime<Utc>, DateTime<Utc>), ApiError> {
    let start = start.ok_or(ApiError::MissingParameter("start_time"))?;
    let end = end.ok_or(ApiError::MissingParameter("end_time"))?;
    Ok((
        parse_time("start_time", &start)?,
        parse_time("end_time", &end)?,
    ))
}

/// An RFC 3339 time with any offset. Two lenient readings, because clients send them:
/// a `+` offset that arrives as a space (an unencoded `+` in a query string decodes to one),
/// and a time without offset, taken as UTC.
pub(super) fn parse_time(name: &str, value: &str) -> Result<DateTime<Utc>, ApiError> {
    let value = value.trim();
    if let Ok(time) = DateTime::parse_from_rfc3339(value) {
        return Ok(time.to_utc());
    }
    if value.len() > 6 && value.is_char_boundary(value.len() - 6) {
        let (head, offset) = value.split_at(value.len() - 6);
        if let Some(rest) = offset.strip_prefix(' ')
            && let Ok(time) = DateTime::parse_from_rfc3339(&format!("{head}+{rest}"))
        {
            return Ok(time.to_utc());
        }
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(time) = NaiveDateTime::parse_from_str(value, format) {
            return Ok(time.and_utc());
        }
    }
    Err(ApiError::InvalidParameter(format!(
        "{name} is not an RFC 3339 time such as 2030-01-02T09:00:00Z or 2030-01-02T10:00:00+01:00."
    )))
}

/// A Calendly available time, passed on as Calendly wrote it.
#[derive(Debug)]
pub struct AvailableTime;

impl PartialSchema for AvailableTime {
    fn schema() -> RefOr<Schema> {
        calendly_object(
            "A Calendly available time as Calendly returned it; fields beyond those named here are kept.",
            &[(
                "start_time",
                Some(SchemaFormat::KnownFormat(
                    utoipa::openapi::KnownFormat::DateTime,
                )),
            )],
            &["status", "scheduling_url"],
        )
    }
}

impl ToSchema for AvailableTime {}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(value: &str) -> Option<String> {
        parse_time("start_time", value).ok().map(|t| t.to_rfc3339())
    }

    #[test]
    fn times_with_any_offset_are_read_as_instants() {
        assert_eq!(
            parsed("2030-01-02T09:00:00Z").as_deref(),
            Some("2030-01-02T09:00:00+00:00")
        );
        assert_eq!(
            parsed("2030-01-02T10:00:00+01:00").as_deref(),
            Some("2030-01-02T09:00:00+00:00")
        );
        assert_eq!(
            parsed("2030-01-02T04:00:00-05:00").as_deref(),
            Some("2030-01-02T09:00:00+00:00")
        );
        assert_eq!(
            parsed("2030-01-02T09:00:00.123456Z").as_deref(),
            Some("2030-01-02T09:00:00.123456+00:00")
        );
    }

    #[test]
    fn an_offset_whose_plus_became_a_space_is_read() {
        assert_eq!(
            parsed("2030-01-02T10:00:00 01:00").as_deref(),
            Some("2030-01-02T09:00:00+00:00")
        );
    }

    #[test]
    fn a_time_without_offset_is_utc() {
        assert_eq!(
            parsed("2030-01-02T09:00:00").as_deref(),
            Some("2030-01-02T09:00:00+00:00")
        );
    }

    #[test]
    fn anything_else_is_invalid() {
        for value in [
            "",
            "tomorrow",
            "2030-13-01T00:00:00Z",
            "2030-01-02",
            "1735689600",
            "2030-01-02T25:00:00Z",
            "2030-01-02T10:00:00 ab:cd",
        ] {
            assert!(parsed(value).is_none(), "{value}");
        }
    }
}
