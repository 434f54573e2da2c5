//! The webhook subscriptions the stand-in keeps, and what it knows of their deliveries.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

use crate::respond::API;

#[derive(Debug, Clone)]
pub(crate) struct Subscription {
    pub(crate) uuid: String,
    pub(crate) url: String,
    pub(crate) user: String,
    pub(crate) organization: String,
    pub(crate) events: Vec<String>,
    /// What its deliveries are signed with: the key sent along, or the OAuth application's.
    pub(crate) signing_key: String,
    pub(crate) created_at: String,
    pub(crate) disabled: bool,
    /// When its deliveries started failing, if they are.
    pub(crate) failing_since: Option<DateTime<Utc>>,
}

impl Subscription {
    pub(crate) fn resource(&self) -> Value {
        json!({
            "uri": format!("{API}/webhook_subscriptions/{}", self.uuid),
            "callback_url": self.url,
            "created_at": self.created_at,
            "updated_at": self.created_at,
            "retry_started_at": self
                .failing_since
                .map(|t| t.to_rfc3339_opts(SecondsFormat::Micros, true)),
            "state": if self.disabled { "disabled" } else { "active" },
            "events": self.events,
            "scope": "user",
            "organization": self.organization,
            "user": self.user,
            "creator": self.user,
        })
    }
}

/// The subscriptions, the booked slots and the changed event types.
#[derive(Debug)]
pub(crate) struct Hooks {
    pub(crate) enabled: bool,
    /// The OAuth application's webhook signing key.
    pub(crate) application_key: String,
    /// How long deliveries may fail before the subscription is disabled.
    pub(crate) disable_after: chrono::TimeDelta,
    /// Subscription requests still to be failed with 500.
    pub(crate) refusals: std::sync::atomic::AtomicU32,
    pub(crate) subscriptions: Mutex<Vec<Subscription>>,
    /// The seats taken of each booked time: (event type URI, start time).
    pub(crate) booked: Mutex<HashMap<(String, DateTime<Utc>), u32>>,
    /// Times each event type was changed.
    pub(crate) changes: Mutex<HashMap<String, u32>>,
    pub(crate) client: reqwest::Client,
}

impl Hooks {
    pub(crate) fn new(
        enabled: bool,
        application_key: String,
        disable_after: chrono::TimeDelta,
    ) -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        Self {
            enabled,
            application_key,
            disable_after,
            refusals: std::sync::atomic::AtomicU32::new(0),
            subscriptions: Mutex::new(Vec::new()),
            booked: Mutex::new(HashMap::new()),
            changes: Mutex::new(HashMap::new()),
            client: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(10))
                .build()
                .unwrap_or_default(),
        }
    }

    /// The seats taken of `event_type` at `start`.
    pub(crate) fn taken(&self, event_type: &str, start: DateTime<Utc>) -> u32 {
        let booked = self.booked.lock().unwrap_or_else(PoisonError::into_inner);
        if booked.is_empty() {
            return 0;
        }
        booked
            .get(&(event_type.to_owned(), start))
            .copied()
            .unwrap_or(0)
    }

    /// Takes a seat of `event_type` at `start` when fewer than `seats` are taken.
    pub(crate) fn take_seat(&self, event_type: &str, start: DateTime<Utc>, seats: u32) -> bool {
        let mut booked = self.booked.lock().unwrap_or_else(PoisonError::into_inner);
        let taken = booked.entry((event_type.to_owned(), start)).or_insert(0);
        let free = *taken < seats;
        if free {
            *taken += 1;
        }
        free
    }

    /// Gives a seat of `event_type` at `start` back.
    pub(crate) fn give_seat_back(&self, event_type: &str, start: DateTime<Utc>) {
        let mut booked = self.booked.lock().unwrap_or_else(PoisonError::into_inner);
        let key = (event_type.to_owned(), start);
        if let Some(taken) = booked.get_mut(&key) {
            *taken = taken.saturating_sub(1);
            if *taken == 0 {
                booked.remove(&key);
            }
        }
    }

    /// How many times `event_type` was changed.
    pub(crate) fn changes_of(&self, event_type: &str) -> u32 {
        self.changes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(event_type)
            .copied()
            .unwrap_or(0)
    }

    pub(crate) fn subscriptions(&self) -> std::sync::MutexGuard<'_, Vec<Subscription>> {
        self.subscriptions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl Hooks {
    /// Disables every subscription of `user` (a URI): how many.
    pub(crate) fn disable_all_of(&self, user: &str) -> usize {
        let mut subscriptions = self.subscriptions();
        let of_user = subscriptions.iter_mut().filter(|s| s.user == user);
        of_user.map(|s| s.disabled = true).count()
    }

    /// What Calendly does with a delivery's answer: a 2xx ends the failing; 410 deletes the
    /// subscription; any other answer (or none) keeps it failing, and a subscription failing
    /// for `disable_after` is disabled.
    pub(crate) fn answered(&self, uuid: &str, status: u16, now: DateTime<Utc>) {
        let mut subscriptions = self.subscriptions();
        if status == 410 {
            subscriptions.retain(|s| s.uuid != uuid);
            return;
        }
        let Some(subscription) = subscriptions.iter_mut().find(|s| s.uuid == uuid) else {
            return;
        };
        if (200..300).contains(&status) {
            subscription.failing_since = None;
            return;
        }
        let since = *subscription.failing_since.get_or_insert(now);
        if now - since >= self.disable_after {
            subscription.disabled = true;
        }
    }
}
