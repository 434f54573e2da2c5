//! What a booking is: the request, its invitee and answers, and the bookings the provider
//! keeps.

use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::invalid::InvalidValue;
use crate::model::{EventTypeUri, RawJson};

/// Most guests a booking may bring (the provider's limit).
pub const MAX_GUESTS: usize = 10;
/// Longest cancellation reason (the provider's limit), in characters.
pub const MAX_REASON_CHARS: usize = 10_000;
/// Longest idempotency key, in characters.
pub const MAX_KEY_CHARS: usize = 255;
/// How long an idempotency key is kept: a retry within a day answers what the first answered.
pub const KEY_LIFETIME: TimeDelta = TimeDelta::hours(24);
/// How long a request holding an idempotency key may run before it is taken as stopped (its
/// instance died) and the key given to the next, which asks the provider first.
pub const RUNNING_LEASE: TimeDelta = TimeDelta::minutes(2);

/// An email address: something before and after one `@`, a dot in the part after it, no
/// space, at most 254 characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    pub fn parse(text: impl Into<String>) -> Result<Self, InvalidValue> {
        let text = text.into().trim().to_owned();
        let plausible = text.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
        });
        if !plausible
            || text.len() > 254
            || text.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(InvalidValue(
                "is not an email address such as ada@example.com".into(),
            ));
        }
        Ok(Self(text))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Email {
    type Error = InvalidValue;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        Self::parse(text)
    }
}

impl From<Email> for String {
    fn from(email: Email) -> Self {
        email.0
    }
}

/// How the invitee is called: a whole name, or a first name and perhaps a last one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum InviteeName {
    Full(String),
    Parts { first: String, last: Option<String> },
}

/// Who is booked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitee {
    pub name: InviteeName,
    pub email: Email,
    pub timezone: Tz,
    /// A phone number for text reminders, as given.
    pub text_reminder_number: Option<String>,
}

/// Where the meeting is held: one of the kinds the event type offers, and for some kinds a
/// place or number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocationChoice {
    pub kind: String,
    pub location: Option<String>,
}

/// An answer to one of the event type's questions, with the question's exact text and
/// position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub question: String,
    pub answer: String,
    pub position: u32,
}

/// Where the booking came from, passed on to the provider as it takes it (every key, absent
/// ones empty).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tracking {
    pub utm_campaign: Option<String>,
    pub utm_source: Option<String>,
    pub utm_medium: Option<String>,
    pub utm_content: Option<String>,
    pub utm_term: Option<String>,
    pub salesforce_uuid: Option<String>,
}

/// A booking asked for: an invitee at a start time of one of the host's event types.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookingRequest {
    pub event_type: EventTypeUri,
    pub start_time: DateTime<Utc>,
    pub invitee: Invitee,
    pub location: Option<LocationChoice>,
    pub answers: Vec<Answer>,
    pub guests: Vec<Email>,
    pub tracking: Option<Tracking>,
}

/// A booking's id at the provider: letters, digits, `-` and `_`, at most 64.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct BookingId(String);

impl BookingId {
    pub fn parse(text: impl Into<String>) -> Result<Self, InvalidValue> {
        let text = text.into();
        let fits = !text.is_empty()
            && text.len() <= 64
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if fits {
            Ok(Self(text))
        } else {
            Err(InvalidValue("is not a booking id".into()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for BookingId {
    type Error = InvalidValue;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        Self::parse(text)
    }
}

impl From<BookingId> for String {
    fn from(id: BookingId) -> Self {
        id.0
    }
}

impl std::fmt::Display for BookingId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether a booking stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BookingStatus {
    Active,
    Canceled,
}

impl BookingStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Canceled => "canceled",
        }
    }
}

/// One invitee of a booking, as the provider keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookedInvitee {
    pub uri: String,
    pub name: String,
    pub email: String,
    pub timezone: String,
    pub status: BookingStatus,
    pub cancel_url: Option<String>,
    pub reschedule_url: Option<String>,
    /// The answers, as the provider wrote them.
    pub questions_and_answers: RawJson,
}

/// A booking (a scheduled event of the host), as the provider keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Booking {
    pub id: BookingId,
    pub uri: String,
    pub event_type: Option<String>,
    pub name: String,
    pub start_time: DateTime<Utc>,
    pub end_time: DateTime<Utc>,
    pub status: BookingStatus,
    /// Where it is held, as the provider wrote it (`null` when it did not say).
    pub location: RawJson,
    /// How many invitees it has and may have, as the provider wrote it; lists carry it.
    pub invitees_counter: Option<RawJson>,
    /// Its invitees, when they were read (a single booking's are; a list's are not).
    pub invitees: Option<Vec<BookedInvitee>>,
}

/// Which bookings are listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookingsQuery {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub status: Option<BookingStatus>,
    pub invitee_email: Option<Email>,
}

/// A key the client sends so that a retried booking is made once: at most
/// [`MAX_KEY_CHARS`] printable characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn parse(text: impl Into<String>) -> Result<Self, InvalidValue> {
        let text = text.into();
        if text.is_empty() || text.chars().count() > MAX_KEY_CHARS {
            return Err(InvalidValue("must be 1 to 255 characters".into()));
        }
        if text.chars().any(char::is_control) {
            return Err(InvalidValue("must not hold control characters".into()));
        }
        Ok(Self(text))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_need_a_local_part_a_dotted_domain_and_no_space() {
        assert!(Email::parse("ada@example.com").is_ok());
        for bad in [
            "",
            "ada",
            "@example.com",
            "ada@example",
            "ada@.com",
            "a da@example.com",
            "a@b@c.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
        assert!(Email::parse(format!("{}@example.com", "a".repeat(250))).is_err());
    }

    #[test]
    fn keys_are_at_most_255_characters_without_control_characters() {
        assert!(IdempotencyKey::parse("k".repeat(255)).is_ok());
        assert!(IdempotencyKey::parse("k".repeat(256)).is_err());
        assert!(IdempotencyKey::parse("").is_err());
        assert!(IdempotencyKey::parse("a\nb").is_err());
    }

    #[test]
    fn booking_ids_are_plain() {
        assert!(BookingId::parse("0b8f7e3c-aaaa-4bbb-8ccc-0123456789ab").is_ok());
        assert!(BookingId::parse("../users").is_err());
        assert!(BookingId::parse("").is_err());
    }
}
