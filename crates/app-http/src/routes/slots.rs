//! `GET /calendly/slots?start_time=…&end_time=…[&event_type=URI]…[&timezone=IANA]`: what a
//! booking page draws.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::SecondsFormat;
use chrono_tz::Tz;
use domain::{EventTypeUri, Slots, SlotsQuery};
use serde::Serialize;
use utoipa::ToSchema;

use super::availability::{self, required_times};
use crate::auth::AuthenticatedUser;
use crate::error::{ApiError, ErrorKind};
use crate::state::AppState;

/// The errors of `GET /calendly/slots`: those of check-availability, whose ranges and event
/// types it reads the same way.
pub const ERRORS: &[ErrorKind] = availability::ERRORS;

/// The slots, by local day.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Slots)]
pub struct SlotsBody {
    /// The IANA time zone of every time below.
    #[schema(example = "Europe/Berlin")]
    timezone: String,
    /// The days that have slots, in order.
    days: Vec<DayBody>,
}

/// One local day's slots.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = SlotDay)]
pub struct DayBody {
    /// The local date.
    #[schema(format = Date, example = "2030-01-02")]
    date: String,
    /// Sorted by `start`, then `event_type`.
    slots: Vec<SlotBody>,
}

/// One bookable slot.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Slot)]
pub struct SlotBody {
    /// With the zone's offset at that instant.
    #[schema(format = DateTime, example = "2030-01-02T09:00:00+01:00")]
    start: String,
    /// `start` plus the event type's duration.
    #[schema(format = DateTime, example = "2030-01-02T09:30:00+01:00")]
    end: String,
    #[schema(format = "uri")]
    event_type: String,
    /// As Calendly said; null when it did not.
    invitees_remaining: Option<u64>,
    /// As Calendly said; null when it did not.
    scheduling_url: Option<String>,
}

impl From<Slots> for SlotsBody {
    fn from(slots: Slots) -> Self {
        let time = |t: chrono::DateTime<Tz>| t.to_rfc3339_opts(SecondsFormat::AutoSi, false);
        Self {
            timezone: slots.timezone.name().to_owned(),
            days: slots
                .days
                .into_iter()
                .map(|day| DayBody {
                    date: day.date.to_string(),
                    slots: day
                        .slots
                        .into_iter()
                        .map(|slot| SlotBody {
                            start: time(slot.start),
                            end: time(slot.end),
                            event_type: slot.event_type.as_str().to_owned(),
                            invitees_remaining: slot.seats_left,
                            scheduling_url: slot.booking_url,
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

/// The query: `start_time` and `end_time` once each, `event_type` any number of times,
/// `timezone` at most once.
fn query_from(query: &str) -> Result<SlotsQuery, ApiError> {
    let pairs = web::Query::<Vec<(String, String)>>::from_query(query)
        .map_err(|e| ApiError::InvalidParameter(format!("Query string not understood: {e}.")))?
        .into_inner();
    let single = |name: &'static str| -> Result<Option<&str>, ApiError> {
        let mut values = pairs.iter().filter(|(key, _)| key == name);
        match (values.next(), values.next()) {
            (value, None) => Ok(value.map(|(_, v)| v.as_str())),
            _ => Err(ApiError::InvalidParameter(format!(
                "{name} may be given once."
            ))),
        }
    };
    let (start, end) = required_times(
        single("start_time")?.map(str::to_owned),
        single("end_time")?.map(str::to_owned),
    )?;
    let timezone = single("timezone")?
        .map(|name| {
            name.parse::<Tz>().map_err(|_| {
                ApiError::InvalidParameter(format!(
                    "timezone {name:?} is not an IANA time zone name such as Europe/Berlin."
                ))
            })
        })
        .transpose()?;
    let event_types = pairs
        .iter()
        .filter(|(key, _)| key == "event_type")
        .map(|(_, uri)| {
            EventTypeUri::parse(uri.as_str())
                .map_err(|e| ApiError::InvalidParameter(format!("event_type: {e}.")))
        })
        .collect::<Result<_, _>>()?;
    Ok(SlotsQuery {
        start,
        end,
        event_types,
        timezone,
    })
}

/// Every slot of the user's event types between two times, in a time zone, by local day.
#[utoipa::path(
    get,
    path = "/calendly/slots",
    operation_id = "slots",
    tag = "calendly",
    security(("bearer" = [])),
    params(
        ("start_time" = DateTime<Utc>, Query, description = "RFC 3339, any offset; a time in the past is moved to now.", example = "2030-01-02T00:00:00Z"),
        ("end_time" = DateTime<Utc>, Query, description = "RFC 3339, after `start_time`, at most `limits.max_range_days` (365) later.", example = "2030-01-09T00:00:00Z"),
        ("event_type" = Option<Vec<String>>, Query, description = "An event type's URI; may repeat (each counts once); none: every active event type of the user, at most `limits.max_event_types_per_request` (10).", explode = true),
        ("timezone" = Option<String>, Query, description = "An IANA time zone name such as `Europe/Berlin`; by default the user's Calendly time zone. Offsets such as `+01:00` are not names.", example = "Europe/Berlin"),
    ),
    responses((status = 200, description = "The slots, grouped by local date; days without slots are left out.", body = SlotsBody))
)]
pub async fn slots(
    request: HttpRequest,
    state: web::Data<AppState>,
    AuthenticatedUser(user_id): AuthenticatedUser,
) -> Result<HttpResponse, ApiError> {
    let query = query_from(request.query_string())?;
    let slots = state.service.slots(&user_id, query).await?;
    Ok(HttpResponse::Ok().json(SlotsBody::from(slots)))
}
