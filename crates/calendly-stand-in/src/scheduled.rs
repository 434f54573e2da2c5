//! Scheduled events and their invitees, as Calendly keeps them: what `POST /invitees` books
//! and `POST /scheduled_events/{uuid}/cancellation` cancels, read back by
//! `GET /scheduled_events[/{uuid}[/invitees]]`.

use std::sync::{Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use serde_json::{Value, json};

use crate::respond::API;

/// One scheduled event.
#[derive(Debug, Clone)]
pub(crate) struct ScheduledEvent {
    pub(crate) uuid: String,
    /// The host's URI.
    pub(crate) owner: String,
    pub(crate) event_type: String,
    pub(crate) name: String,
    pub(crate) start: DateTime<Utc>,
    pub(crate) end: DateTime<Utc>,
    pub(crate) seats: u32,
    pub(crate) location: Value,
    pub(crate) created_at: String,
    /// Each invitee as `POST /invitees` answered it (its status kept up to date).
    pub(crate) invitees: Vec<Value>,
    /// Set once canceled.
    pub(crate) cancellation: Option<Value>,
}

/// Calendly's writing of a time.
pub(crate) fn written(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Micros, true)
}

impl ScheduledEvent {
    pub(crate) fn uri(&self) -> String {
        format!("{API}/scheduled_events/{}", self.uuid)
    }

    pub(crate) fn active_invitees(&self) -> usize {
        self.invitees
            .iter()
            .filter(|i| i["status"] == "active")
            .count()
    }

    /// The event as Calendly writes it.
    pub(crate) fn resource(&self) -> Value {
        let mut resource = json!({
            "uri": self.uri(),
            "name": self.name,
            "status": if self.cancellation.is_some() { "canceled" } else { "active" },
            "booking_method": "instant",
            "start_time": written(self.start),
            "end_time": written(self.end),
            "event_type": self.event_type,
            "location": self.location,
            "invitees_counter": {
                "total": self.invitees.len(),
                "active": self.active_invitees(),
                "limit": self.seats,
            },
            "created_at": self.created_at,
            "updated_at": self.created_at,
            "event_memberships": [{ "user": self.owner }],
            "event_guests": [],
        });
        if let Some(cancellation) = &self.cancellation {
            resource["cancellation"] = cancellation.clone();
        }
        resource
    }
}

/// Every scheduled event.
#[derive(Debug, Default)]
pub(crate) struct Scheduled {
    events: Mutex<Vec<ScheduledEvent>>,
}

impl Scheduled {
    pub(crate) fn events(&self) -> MutexGuard<'_, Vec<ScheduledEvent>> {
        self.events.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A new random identifier, as Calendly's (16 upper-case letters and digits).
pub(crate) fn new_uuid() -> String {
    use rand::Rng as _;
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut rng = rand::rng();
    (0..16)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}

/// The end of a meeting of `minutes` starting at `start`.
pub(crate) fn end_of(start: DateTime<Utc>, minutes: i64) -> DateTime<Utc> {
    start + TimeDelta::minutes(minutes)
}
