//! Calendly's booking JSON: an event type's questions and locations, the body of
//! `POST /invitees`, and scheduled events and invitees read into the domain's bookings.

use chrono::{DateTime, Utc};
use domain::booking::{
    BookedInvitee, Booking, BookingForm, BookingId, BookingRequest, BookingStatus, InviteeName,
    Question,
};
use domain::{ProviderError, RawJson};
use serde::Deserialize;
use serde_json::{Value, json};

use super::wire::{Pagination, Resource, format_time, malformed};

#[derive(Deserialize)]
struct FormJson {
    #[serde(default)]
    custom_questions: Option<Vec<QuestionJson>>,
    #[serde(default)]
    locations: Option<Vec<LocationJson>>,
}

#[derive(Deserialize)]
struct QuestionJson {
    name: String,
    position: u32,
    #[serde(default)]
    required: bool,
    #[serde(default = "enabled_by_default")]
    enabled: bool,
}

fn enabled_by_default() -> bool {
    true
}

#[derive(Deserialize)]
struct LocationJson {
    kind: String,
}

/// The questions and location kinds of an event type, as Calendly wrote them.
pub(super) fn form(event_type: &RawJson) -> Result<BookingForm, ProviderError> {
    let read: FormJson = serde_json::from_slice(event_type.as_bytes())
        .map_err(|error| malformed("event type", error))?;
    Ok(BookingForm {
        questions: read
            .custom_questions
            .unwrap_or_default()
            .into_iter()
            .map(|q| Question {
                text: q.name,
                position: q.position,
                required: q.required,
                enabled: q.enabled,
            })
            .collect(),
        location_kinds: read
            .locations
            .unwrap_or_default()
            .into_iter()
            .map(|l| l.kind)
            .collect(),
    })
}

/// The body of `POST /invitees` for `request`.
pub(super) fn invitee_body(request: &BookingRequest) -> Value {
    let invitee = &request.invitee;
    let mut person = json!({
        "email": invitee.email.as_str(),
        "timezone": invitee.timezone.name(),
    });
    match &invitee.name {
        InviteeName::Full(name) => person["name"] = json!(name),
        InviteeName::Parts { first, last } => {
            person["first_name"] = json!(first);
            if let Some(last) = last {
                person["last_name"] = json!(last);
            }
        }
    }
    if let Some(number) = &invitee.text_reminder_number {
        person["text_reminder_number"] = json!(number);
    }
    let mut body = json!({
        "event_type": request.event_type.as_str(),
        "start_time": format_time(request.start_time),
        "invitee": person,
    });
    if let Some(location) = &request.location {
        let mut chosen = json!({ "kind": location.kind });
        if let Some(place) = &location.location {
            chosen["location"] = json!(place);
        }
        body["location"] = chosen;
    }
    if !request.answers.is_empty() {
        body["questions_and_answers"] = request
            .answers
            .iter()
            .map(|a| json!({ "question": a.question, "answer": a.answer, "position": a.position }))
            .collect();
    }
    if !request.guests.is_empty() {
        body["event_guests"] = request.guests.iter().map(|g| json!(g.as_str())).collect();
    }
    if let Some(t) = &request.tracking {
        // Calendly takes all six keys or none.
        body["tracking"] = json!({
            "utm_campaign": t.utm_campaign, "utm_source": t.utm_source,
            "utm_medium": t.utm_medium, "utm_content": t.utm_content,
            "utm_term": t.utm_term, "salesforce_uuid": t.salesforce_uuid,
        });
    }
    body
}

#[derive(Deserialize)]
struct CreatedInvitee {
    event: String,
}

/// The scheduled event's id of a `POST /invitees` answer, and the invitee it made.
pub(super) fn created_invitee(body: &[u8]) -> Result<(BookingId, BookedInvitee), ProviderError> {
    let created: Resource<Value> =
        serde_json::from_slice(body).map_err(|error| malformed("booking answer", error))?;
    let event: CreatedInvitee = serde_json::from_value(created.resource.clone())
        .map_err(|error| malformed("booking answer", error))?;
    Ok((id_of(&event.event)?, invitee(created.resource)?))
}

/// The last part of a Calendly URI as a booking id.
pub(super) fn id_of(uri: &str) -> Result<BookingId, ProviderError> {
    let last = uri
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default();
    BookingId::parse(last).map_err(|error| malformed("scheduled event URI", error))
}

#[derive(Deserialize)]
struct EventJson {
    uri: String,
    #[serde(default)]
    name: String,
    status: String,
    start_time: DateTime<Utc>,
    end_time: DateTime<Utc>,
    event_type: Option<String>,
    #[serde(default)]
    location: Value,
    invitees_counter: Option<Value>,
    #[serde(default)]
    event_memberships: Vec<Membership>,
}

#[derive(Deserialize)]
struct Membership {
    user: Option<String>,
}

fn status(text: &str) -> BookingStatus {
    if text == "canceled" {
        BookingStatus::Canceled
    } else {
        BookingStatus::Active
    }
}

/// A scheduled event, and whether `account` hosts it.
fn event(read: EventJson, account: &str) -> Result<(Booking, bool), ProviderError> {
    let hosted = read
        .event_memberships
        .iter()
        .any(|m| m.user.as_deref() == Some(account));
    let raw = |value: &Value| {
        RawJson::parse(value.to_string()).map_err(|error| malformed("scheduled event", error))
    };
    Ok((
        Booking {
            id: id_of(&read.uri)?,
            uri: read.uri,
            event_type: read.event_type,
            name: read.name,
            start_time: read.start_time,
            end_time: read.end_time,
            status: status(&read.status),
            location: raw(&read.location)?,
            invitees_counter: read.invitees_counter.as_ref().map(raw).transpose()?,
            invitees: None,
        },
        hosted,
    ))
}

/// `GET /scheduled_events/{uuid}`: the event, and whether `account` hosts it.
pub(super) fn scheduled_event(
    body: &[u8],
    account: &str,
) -> Result<(Booking, bool), ProviderError> {
    let read: Resource<EventJson> =
        serde_json::from_slice(body).map_err(|error| malformed("scheduled event", error))?;
    event(read.resource, account)
}

#[derive(Deserialize)]
struct Page<T> {
    collection: Vec<T>,
    #[serde(default)]
    pagination: Option<Pagination>,
}

/// One page of `GET /scheduled_events`: the events, and the next page's token.
pub(super) fn scheduled_events_page(
    body: &[u8],
    account: &str,
) -> Result<(Vec<Booking>, Option<String>), ProviderError> {
    let page: Page<EventJson> =
        serde_json::from_slice(body).map_err(|error| malformed("scheduled events", error))?;
    let events = page
        .collection
        .into_iter()
        .map(|read| event(read, account).map(|(booking, _)| booking))
        .collect::<Result<_, _>>()?;
    Ok((events, page.pagination.and_then(|p| p.next_page_token)))
}

/// One page of `GET /scheduled_events/{uuid}/invitees`.
pub(super) fn invitees_page(
    body: &[u8],
) -> Result<(Vec<BookedInvitee>, Option<String>), ProviderError> {
    let page: Page<Value> =
        serde_json::from_slice(body).map_err(|error| malformed("invitees", error))?;
    let invitees = page
        .collection
        .into_iter()
        .map(invitee)
        .collect::<Result<_, _>>()?;
    Ok((invitees, page.pagination.and_then(|p| p.next_page_token)))
}

#[derive(Deserialize)]
struct InviteeJson {
    uri: String,
    #[serde(default)]
    name: String,
    email: String,
    #[serde(default)]
    timezone: Option<String>,
    status: String,
    cancel_url: Option<String>,
    reschedule_url: Option<String>,
    #[serde(default)]
    questions_and_answers: Value,
}

fn invitee(value: Value) -> Result<BookedInvitee, ProviderError> {
    let read: InviteeJson =
        serde_json::from_value(value).map_err(|error| malformed("invitee", error))?;
    let answers = match read.questions_and_answers {
        Value::Null => json!([]),
        answers => answers,
    };
    Ok(BookedInvitee {
        uri: read.uri,
        name: read.name,
        email: read.email,
        timezone: read.timezone.unwrap_or_default(),
        status: status(&read.status),
        cancel_url: read.cancel_url,
        reschedule_url: read.reschedule_url,
        questions_and_answers: RawJson::parse(answers.to_string())
            .map_err(|error| malformed("invitee", error))?,
    })
}
