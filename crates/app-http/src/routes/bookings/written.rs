//! Bookings as the client receives them, and the body `POST /calendly/bookings` takes, for the
//! OpenAPI document.

use chrono::{DateTime, SecondsFormat, Utc};
use domain::RawJson;
use domain::booking::{BookedInvitee, Booking};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

/// A time as Calendly writes it, in UTC.
fn written(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Calendly's JSON as a value (it was checked when read).
fn value(json: &RawJson) -> Value {
    serde_json::from_slice(json.as_bytes()).unwrap_or(Value::Null)
}

/// A booking: one of the host's scheduled events on Calendly.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Booking)]
pub struct BookingBody {
    /// Calendly's id of the scheduled event; the path of `/calendly/bookings/{uuid}`.
    #[schema(example = "GBGBDCAADAEDCRZ2")]
    pub uuid: String,
    #[schema(
        format = "uri",
        example = "https://api.calendly.com/scheduled_events/GBGBDCAADAEDCRZ2"
    )]
    pub uri: String,
    #[schema(
        format = "uri",
        example = "https://api.calendly.com/event_types/AAAAAAAAAAAAAAAA"
    )]
    pub event_type: Option<String>,
    #[schema(example = "30 Minute Meeting")]
    pub name: String,
    #[schema(format = DateTime, example = "2030-01-02T09:00:00.000000Z")]
    pub start_time: String,
    #[schema(format = DateTime, example = "2030-01-02T09:30:00.000000Z")]
    pub end_time: String,
    /// `active` or `canceled`.
    #[schema(example = "active")]
    pub status: &'static str,
    /// Where it is held, as Calendly says (`null` when it does not).
    #[schema(value_type = Object)]
    pub location: Value,
    /// How many invitees it has and may have (`total`, `active`, `limit`), as Calendly says: in
    /// lists.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub invitees_counter: Option<Value>,
    /// Its invitees: in a single booking, not in lists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invitees: Option<Vec<InviteeBody>>,
}

/// One invitee of a booking.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = BookingInvitee)]
pub struct InviteeBody {
    #[schema(format = "uri")]
    pub uri: String,
    #[schema(example = "Ada Lovelace")]
    pub name: String,
    #[schema(example = "ada@example.com")]
    pub email: String,
    #[schema(example = "Europe/London")]
    pub timezone: String,
    /// `active` or `canceled`.
    pub status: &'static str,
    /// Where the invitee cancels on Calendly's own page.
    #[schema(format = "uri")]
    pub cancel_url: Option<String>,
    /// Where the invitee reschedules on Calendly's own page.
    #[schema(format = "uri")]
    pub reschedule_url: Option<String>,
    /// The answers, as Calendly keeps them: `[{"question", "answer", "position"}]`.
    #[schema(value_type = Vec<Object>)]
    pub questions_and_answers: Value,
}

impl From<&BookedInvitee> for InviteeBody {
    fn from(invitee: &BookedInvitee) -> Self {
        Self {
            uri: invitee.uri.clone(),
            name: invitee.name.clone(),
            email: invitee.email.clone(),
            timezone: invitee.timezone.clone(),
            status: invitee.status.as_str(),
            cancel_url: invitee.cancel_url.clone(),
            reschedule_url: invitee.reschedule_url.clone(),
            questions_and_answers: value(&invitee.questions_and_answers),
        }
    }
}

impl From<&Booking> for BookingBody {
    fn from(booking: &Booking) -> Self {
        Self {
            uuid: booking.id.as_str().to_owned(),
            uri: booking.uri.clone(),
            event_type: booking.event_type.clone(),
            name: booking.name.clone(),
            start_time: written(booking.start_time),
            end_time: written(booking.end_time),
            status: booking.status.as_str(),
            location: value(&booking.location),
            invitees_counter: booking.invitees_counter.as_ref().map(value),
            invitees: booking
                .invitees
                .as_ref()
                .map(|invitees| invitees.iter().map(InviteeBody::from).collect()),
        }
    }
}

/// The user's bookings, sorted by start.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Bookings)]
pub struct BookingsBody {
    pub collection: Vec<BookingBody>,
}

// Describes the body for the OpenAPI document; `body::booking_request` reads it field by field.
/// A booking to make: an invitee at one of the host's available times.
#[derive(ToSchema)]
#[schema(as = BookingRequest, example = json!({
    "event_type": "https://api.calendly.com/event_types/AAAAAAAAAAAAAAAA",
    "start_time": "2030-01-02T09:00:00Z",
    "invitee": {"name": "Ada Lovelace", "email": "ada@example.com", "timezone": "Europe/London",
                "text_reminder_number": "+44 20 7946 0000"},
    "location": {"kind": "zoom_conference"},
    "questions_and_answers": [{"question": "What should we talk about?", "answer": "Engines", "position": 0}],
    "guests": ["charles@example.com"]
}))]
#[expect(dead_code, reason = "describes the body in the OpenAPI document only")]
pub struct BookingRequestBody {
    /// One of the user's active event types.
    #[schema(format = "uri")]
    event_type: String,
    /// One of the event type's available times (RFC 3339, any offset).
    #[schema(format = DateTime)]
    start_time: String,
    invitee: InviteeRequest,
    /// One of the kinds the event type offers, and for some kinds a place or number.
    location: Option<LocationRequest>,
    /// Answers to the event type's questions: each with the question's exact text and position;
    /// every required one answered.
    questions_and_answers: Option<Vec<AnswerRequest>>,
    /// At most 10 email addresses (Calendly's `event_guests`).
    guests: Option<Vec<String>>,
    /// `utm_campaign`, `utm_source`, `utm_medium`, `utm_content`, `utm_term`,
    /// `salesforce_uuid`, passed on to Calendly.
    #[schema(value_type = Option<Object>)]
    tracking: Option<Value>,
}

/// Who is booked: an email, an IANA time zone, and `name` or `first_name` (with `last_name`).
#[derive(ToSchema)]
#[expect(dead_code, reason = "describes the body in the OpenAPI document only")]
pub struct InviteeRequest {
    name: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    email: String,
    /// An IANA time zone such as `Europe/London`.
    timezone: String,
    /// A phone number for text reminders.
    text_reminder_number: Option<String>,
}

#[derive(ToSchema)]
#[expect(dead_code, reason = "describes the body in the OpenAPI document only")]
pub struct LocationRequest {
    /// Such as `zoom_conference`, `physical`, `outbound_call`.
    kind: String,
    location: Option<String>,
}

#[derive(ToSchema)]
#[expect(dead_code, reason = "describes the body in the OpenAPI document only")]
pub struct AnswerRequest {
    question: String,
    answer: String,
    position: u32,
}

/// Why a booking is canceled: told to its invitees.
#[derive(ToSchema)]
#[schema(as = CancellationRequest)]
#[expect(dead_code, reason = "describes the body in the OpenAPI document only")]
pub struct CancellationBody {
    /// At most 10,000 characters.
    reason: Option<String>,
}
