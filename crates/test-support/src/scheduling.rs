//! A scheduling provider that lives in memory: what a second provider behind the gateway looks
//! like, and proof that the gateway's startup takes one. Each account is a personal access
//! token, a user, three event types (30 and 60 minutes active, 15 minutes inactive), a slot
//! every hour from 09:00 to 17:00 UTC on every day, and the slots booked with [`book`].
//!
//! [`book`]: InMemoryScheduling::book

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use chrono::{DateTime, DurationRound, TimeDelta, Timelike, Utc};
use domain::{
    AvailableTime, AvailableTimes, BusyTime, CalendlyToken, CalendlyUser, CalendlyUserUri,
    EventType, EventTypeUri, ProviderError, RawJson, Rejection, SchedulingProvider, TimeRange,
};
use serde_json::json;

/// Where the in-memory provider's URIs live.
pub const BASE: &str = "https://scheduling.example";

struct Account {
    user: CalendlyUser,
    booked: Vec<DateTime<Utc>>,
}

/// The provider: accounts by token, and how many questions it was asked.
#[derive(Default)]
pub struct InMemoryScheduling {
    accounts: Mutex<HashMap<String, Account>>,
    calls: AtomicUsize,
}

impl std::fmt::Debug for InMemoryScheduling {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InMemoryScheduling")
            .field("calls", &self.calls())
            .finish_non_exhaustive()
    }
}

impl InMemoryScheduling {
    /// No accounts yet.
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// An account named `name` (its user `BASE/users/<name>`) reached with `token`.
    pub fn add_account(&self, token: &str, name: &str) -> CalendlyUserUri {
        let uri = CalendlyUserUri::parse(format!("{BASE}/users/{name}")).expect("a user URI");
        self.lock().insert(
            token.to_owned(),
            Account {
                user: CalendlyUser {
                    uri: uri.clone(),
                    name: name.to_owned(),
                    email: format!("{name}@scheduling.example"),
                    scheduling_url: format!("{BASE}/{name}"),
                    timezone: "Europe/Berlin".to_owned(),
                    organization: None,
                },
                booked: Vec::new(),
            },
        );
        uri
    }

    /// Books `start` of the account reached with `token`: no longer available, busy.
    pub fn book(&self, token: &str, start: DateTime<Utc>) {
        if let Some(account) = self.lock().get_mut(token) {
            account.booked.push(start);
        }
    }

    /// Questions asked so far.
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Account>> {
        self.accounts.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The account `token` reaches, which must be `user`'s.
    fn account_of<T>(
        &self,
        token: &CalendlyToken,
        user: &CalendlyUserUri,
        answer: impl FnOnce(&Account) -> T,
    ) -> Result<T, ProviderError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let accounts = self.lock();
        let account = accounts
            .get(token.expose())
            .ok_or(ProviderError::CredentialRejected {
                details: json!({ "error": "unknown token" }),
            })?;
        if &account.user.uri != user {
            return Err(ProviderError::Rejected {
                reason: Rejection::Forbidden,
                details: json!({ "error": "another user's" }),
            });
        }
        Ok(answer(account))
    }
}

/// The event types of `user`: (slug, minutes, active).
const EVENT_TYPES: [(&str, u32, bool); 3] = [
    ("intro", 30, true),
    ("deep-dive", 60, true),
    ("old", 15, false),
];

fn event_type_uri(user: &CalendlyUserUri, slug: &str) -> String {
    format!("{}/event_types/{slug}", user.as_str())
}

/// Every whole hour from 09:00 to 16:00 UTC within `range`.
fn hours(range: TimeRange) -> Vec<DateTime<Utc>> {
    let mut hour = range
        .start()
        .duration_round_up(TimeDelta::hours(1))
        .expect("a time in range");
    let mut hours = Vec::new();
    while hour < range.end() {
        if (9..17).contains(&hour.hour()) {
            hours.push(hour);
        }
        hour += TimeDelta::hours(1);
    }
    hours
}

#[async_trait]
impl SchedulingProvider for InMemoryScheduling {
    async fn current_user(&self, token: &CalendlyToken) -> Result<CalendlyUser, ProviderError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.lock()
            .get(token.expose())
            .map(|account| account.user.clone())
            .ok_or(ProviderError::CredentialRejected {
                details: json!({ "error": "unknown token" }),
            })
    }

    async fn event_types(
        &self,
        token: &CalendlyToken,
        user: &CalendlyUserUri,
    ) -> Result<Arc<[EventType]>, ProviderError> {
        self.account_of(token, user, |_| {
            EVENT_TYPES
                .iter()
                .map(|(slug, minutes, active)| {
                    let uri = event_type_uri(user, slug);
                    EventType {
                        uri: EventTypeUri::parse(uri.clone()).expect("an event type URI"),
                        duration_minutes: Some(*minutes),
                        active: *active,
                        json: RawJson::parse(
                            json!({ "uri": uri, "name": slug, "duration": minutes, "active": active })
                                .to_string(),
                        )
                        .expect("JSON"),
                    }
                })
                .collect()
        })
    }

    async fn available_times(
        &self,
        token: &CalendlyToken,
        account: &CalendlyUserUri,
        event_type: &EventTypeUri,
        range: TimeRange,
    ) -> Result<AvailableTimes, ProviderError> {
        let known = EVENT_TYPES
            .iter()
            .any(|(slug, _, _)| event_type.as_str() == event_type_uri(account, slug));
        let booked = self.account_of(token, account, |found| found.booked.clone())?;
        if !known {
            return Err(ProviderError::Rejected {
                reason: Rejection::NotFound,
                details: json!({ "error": "no such event type" }),
            });
        }
        Ok(hours(range)
            .into_iter()
            .filter(|start| !booked.contains(start))
            .map(|start| {
                let url = format!("{}/book/{}", event_type.as_str(), start.timestamp());
                let written = start.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
                AvailableTime {
                    start_time: start,
                    seats_left: Some(1),
                    booking_url: Some(url.clone()),
                    json: RawJson::parse(
                        json!({ "status": "available", "start_time": written, "invitees_remaining": 1, "scheduling_url": url })
                            .to_string(),
                    )
                    .expect("JSON"),
                }
            })
            .collect())
    }

    async fn busy_times(
        &self,
        token: &CalendlyToken,
        user: &CalendlyUserUri,
        range: TimeRange,
    ) -> Result<Vec<BusyTime>, ProviderError> {
        let booked = self.account_of(token, user, |found| found.booked.clone())?;
        Ok(booked
            .into_iter()
            .filter(|start| *start >= range.start() && *start < range.end())
            .map(|start| BusyTime {
                start_time: start,
                end_time: start + TimeDelta::hours(1),
                json: RawJson::parse(
                    json!({ "type": "booking", "start_time": start.to_rfc3339(), "end_time": (start + TimeDelta::hours(1)).to_rfc3339() })
                        .to_string(),
                )
                .expect("JSON"),
            })
            .collect())
    }

    async fn availability_schedules(
        &self,
        token: &CalendlyToken,
        user: &CalendlyUserUri,
    ) -> Result<Vec<RawJson>, ProviderError> {
        self.account_of(token, user, |_| {
            vec![RawJson::parse(
                json!({ "name": "Working hours", "timezone": "UTC", "rules": [{ "from": "09:00", "to": "17:00" }] })
                    .to_string(),
            )
            .expect("JSON")]
        })
    }
}
