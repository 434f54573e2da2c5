//! The body of `POST /calendly/bookings` read into a booking request: every field checked and
//! named when it is wrong, before anything else happens.

use domain::EventTypeUri;
use domain::booking::{
    Answer, BookingRequest, Email, Invitee, InviteeName, LocationChoice, MAX_GUESTS, Tracking,
};
use serde_json::{Map, Value};

use crate::error::ApiError;
use crate::routes::availability::parse_time;
use crate::routes::json_body::{object_from, string_field};

/// Longest name, number, question, answer or location text taken, in characters.
const MAX_TEXT_CHARS: usize = 10_000;
/// Most answers taken.
const MAX_ANSWERS: usize = 100;

const FIELDS: &[&str] = &[
    "event_type",
    "start_time",
    "invitee",
    "location",
    "questions_and_answers",
    "guests",
    "tracking",
];
const INVITEE_FIELDS: &[&str] = &[
    "name",
    "first_name",
    "last_name",
    "email",
    "timezone",
    "text_reminder_number",
];
const TRACKING_FIELDS: &[&str] = &[
    "utm_campaign",
    "utm_source",
    "utm_medium",
    "utm_content",
    "utm_term",
    "salesforce_uuid",
];

fn invalid(message: String) -> ApiError {
    ApiError::InvalidParameter(message)
}

/// Refuses a field of `object` that is not among `known` (a misspelt field would otherwise be
/// dropped unseen).
fn only(object: &Map<String, Value>, known: &[&str], within: &str) -> Result<(), ApiError> {
    match object.keys().find(|key| !known.contains(&key.as_str())) {
        Some(unknown) => Err(invalid(format!(
            "{within}{unknown} is not a field of a booking; the fields are {}.",
            known.join(", ")
        ))),
        None => Ok(()),
    }
}

/// A text of at most [`MAX_TEXT_CHARS`] characters without control characters, trimmed.
fn text(value: &str, name: &str) -> Result<String, ApiError> {
    let value = value.trim();
    if value.chars().count() > MAX_TEXT_CHARS {
        return Err(invalid(format!(
            "{name} is longer than {MAX_TEXT_CHARS} characters."
        )));
    }
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(invalid(format!("{name} holds control characters.")));
    }
    Ok(value.to_owned())
}

/// A non-empty text field of `object`, or `None` when absent.
fn optional_text(
    object: &Map<String, Value>,
    key: &'static str,
    name: &str,
) -> Result<Option<String>, ApiError> {
    match string_field(object, key).map_err(|_| invalid(format!("{name} must be a string.")))? {
        None => Ok(None),
        Some(value) => Some(text(value, name))
            .transpose()
            .map(|t| t.filter(|t| !t.is_empty())),
    }
}

/// `POST /calendly/bookings`'s body as a booking request.
pub(super) fn booking_request(body: &[u8]) -> Result<BookingRequest, ApiError> {
    let object = object_from(body)?;
    only(&object, FIELDS, "")?;
    let event_type =
        string_field(&object, "event_type")?.ok_or(ApiError::MissingField("event_type"))?;
    let event_type = event_type.trim();
    if !(event_type.starts_with("https://") || event_type.starts_with("http://"))
        || event_type.contains(char::is_whitespace)
    {
        return Err(invalid(
            "event_type must be the URI of one of the user's event types.".into(),
        ));
    }
    let event_type =
        EventTypeUri::parse(event_type).map_err(|e| invalid(format!("event_type: {e}.")))?;
    let start_time =
        string_field(&object, "start_time")?.ok_or(ApiError::MissingField("start_time"))?;
    let start_time = parse_time("start_time", start_time)?;
    let invitee = match object.get("invitee") {
        None | Some(Value::Null) => return Err(ApiError::MissingField("invitee")),
        Some(Value::Object(invitee)) => invitee_of(invitee)?,
        Some(_) => return Err(invalid("invitee must be an object.".into())),
    };
    Ok(BookingRequest {
        event_type,
        start_time,
        invitee,
        location: location_of(object.get("location"))?,
        answers: answers_of(object.get("questions_and_answers"))?,
        guests: guests_of(object.get("guests"))?,
        tracking: tracking_of(object.get("tracking"))?,
    })
}

fn invitee_of(invitee: &Map<String, Value>) -> Result<Invitee, ApiError> {
    only(invitee, INVITEE_FIELDS, "invitee.")?;
    let email = optional_text(invitee, "email", "invitee.email")?
        .ok_or_else(|| invalid("invitee.email is required.".into()))?;
    let email = Email::parse(email).map_err(|e| invalid(format!("invitee.email {e}.")))?;
    let timezone = optional_text(invitee, "timezone", "invitee.timezone")?
        .ok_or_else(|| invalid("invitee.timezone is required.".into()))?;
    let timezone = timezone.parse::<chrono_tz::Tz>().map_err(|_| {
        invalid(format!(
            "invitee.timezone \"{timezone}\" is not an IANA time zone such as Europe/London."
        ))
    })?;
    let name = match (
        optional_text(invitee, "name", "invitee.name")?,
        optional_text(invitee, "first_name", "invitee.first_name")?,
    ) {
        (Some(name), _) => InviteeName::Full(name),
        (None, Some(first)) => InviteeName::Parts {
            first,
            last: optional_text(invitee, "last_name", "invitee.last_name")?,
        },
        (None, None) => {
            return Err(invalid(
                "invitee.name (or invitee.first_name) is required.".into(),
            ));
        }
    };
    Ok(Invitee {
        name,
        email,
        timezone,
        text_reminder_number: optional_text(
            invitee,
            "text_reminder_number",
            "invitee.text_reminder_number",
        )?,
    })
}

fn location_of(location: Option<&Value>) -> Result<Option<LocationChoice>, ApiError> {
    let location = match location {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Object(location)) => location,
        Some(_) => return Err(invalid("location must be an object.".into())),
    };
    only(location, &["kind", "location"], "location.")?;
    let kind = optional_text(location, "kind", "location.kind")?
        .ok_or_else(|| invalid("location.kind is required.".into()))?;
    Ok(Some(LocationChoice {
        kind,
        location: optional_text(location, "location", "location.location")?,
    }))
}

fn answers_of(answers: Option<&Value>) -> Result<Vec<Answer>, ApiError> {
    let answers = match answers {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(answers)) if answers.len() <= MAX_ANSWERS => answers,
        Some(Value::Array(_)) => {
            return Err(invalid(format!(
                "questions_and_answers: at most {MAX_ANSWERS}."
            )));
        }
        Some(_) => return Err(invalid("questions_and_answers must be a list.".into())),
    };
    answers
        .iter()
        .enumerate()
        .map(|(at, answer)| {
            let name = format!("questions_and_answers[{at}]");
            let Value::Object(answer) = answer else {
                return Err(invalid(format!("{name} must be an object.")));
            };
            only(
                answer,
                &["question", "answer", "position"],
                &format!("{name}."),
            )?;
            let question = optional_text(answer, "question", &format!("{name}.question"))?
                .ok_or_else(|| invalid(format!("{name}.question is required.")))?;
            let reply =
                optional_text(answer, "answer", &format!("{name}.answer"))?.unwrap_or_default();
            let position = match answer.get("position") {
                Some(Value::Number(n)) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
                _ => None,
            }
            .ok_or_else(|| invalid(format!("{name}.position must be a whole number from 0.")))?;
            Ok(Answer {
                question,
                answer: reply,
                position,
            })
        })
        .collect()
}

fn guests_of(guests: Option<&Value>) -> Result<Vec<Email>, ApiError> {
    let guests = match guests {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(guests)) if guests.len() <= MAX_GUESTS => guests,
        Some(Value::Array(_)) => return Err(invalid(format!("guests: at most {MAX_GUESTS}."))),
        Some(_) => return Err(invalid("guests must be a list of email addresses.".into())),
    };
    guests
        .iter()
        .enumerate()
        .map(|(at, guest)| {
            guest
                .as_str()
                .ok_or(())
                .and_then(|g| Email::parse(g).map_err(|_| ()))
                .map_err(|()| invalid(format!("guests[{at}] is not an email address.")))
        })
        .collect()
}

fn tracking_of(tracking: Option<&Value>) -> Result<Option<Tracking>, ApiError> {
    let tracking = match tracking {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Object(tracking)) => tracking,
        Some(_) => return Err(invalid("tracking must be an object.".into())),
    };
    only(tracking, TRACKING_FIELDS, "tracking.")?;
    let field = |key: &'static str| optional_text(tracking, key, &format!("tracking.{key}"));
    Ok(Some(Tracking {
        utm_campaign: field("utm_campaign")?,
        utm_source: field("utm_source")?,
        utm_medium: field("utm_medium")?,
        utm_content: field("utm_content")?,
        utm_term: field("utm_term")?,
        salesforce_uuid: field("salesforce_uuid")?,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(body: serde_json::Value) -> Result<BookingRequest, String> {
        booking_request(body.to_string().as_bytes()).map_err(|e| e.to_string())
    }

    fn valid() -> serde_json::Value {
        serde_json::json!({
            "event_type": "https://api.calendly.com/event_types/E",
            "start_time": "2030-01-02T10:00:00+01:00",
            "invitee": {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com", "timezone": "Europe/London"},
            "questions_and_answers": [{"question": "What should we talk about?", "answer": "Engines", "position": 0}],
            "guests": ["charles@example.com"],
            "location": {"kind": "zoom_conference"}
        })
    }

    #[test]
    fn a_valid_body_reads_whole_with_its_time_in_utc() {
        let request = read(valid()).expect("valid");
        assert_eq!(request.start_time.to_rfc3339(), "2030-01-02T09:00:00+00:00");
        assert!(matches!(request.invitee.name, InviteeName::Parts { .. }));
        assert_eq!(request.guests.len(), 1);
        assert_eq!(request.answers[0].position, 0);
    }

    #[test]
    fn each_bad_field_is_named() {
        let cases: [(&str, serde_json::Value, &str); 9] = [
            ("/invitee/email", serde_json::json!("ada"), "invitee.email"),
            (
                "/invitee/timezone",
                serde_json::json!("+01:00"),
                "invitee.timezone",
            ),
            (
                "/invitee/timezone",
                serde_json::json!("Mars/Olympus"),
                "invitee.timezone",
            ),
            (
                "/invitee/first_name",
                serde_json::json!(null),
                "invitee.name",
            ),
            ("/start_time", serde_json::json!("tomorrow"), "start_time"),
            ("/event_type", serde_json::json!("not a uri"), "event_type"),
            (
                "/guests",
                serde_json::json!(vec!["g@example.com"; 11]),
                "guests",
            ),
            (
                "/questions_and_answers/0/position",
                serde_json::json!(-1),
                "position",
            ),
            (
                "/questions_and_answers/0/answers",
                serde_json::json!("x"),
                "answers",
            ),
        ];
        for (pointer, value, named) in cases {
            let mut body = valid();
            let (parent, key) = pointer.rsplit_once('/').expect("pointer");
            body.pointer_mut(parent)
                .and_then(serde_json::Value::as_object_mut)
                .expect("parent")
                .insert(key.to_owned(), value);
            let error = read(body).expect_err(pointer);
            assert!(error.contains(named), "{pointer}: {error}");
        }
    }

    #[test]
    fn an_array_or_a_missing_field_is_refused() {
        assert!(
            read(serde_json::json!([valid()]))
                .expect_err("array")
                .contains("JSON object")
        );
        let mut body = valid();
        body.as_object_mut().expect("object").remove("event_type");
        assert!(read(body).expect_err("missing").contains("event_type"));
    }
}
