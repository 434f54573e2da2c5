use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use mockall::predicate::eq;
use serde_json::json;

use super::*;

mod abandoned;
mod availability;
mod bookings;
mod cancelling;
mod connection;
mod kept_answers;
mod renewal;
mod slots;
mod slots_concurrency;
mod slots_zones;
mod webhooks;
mod webhooks_oauth;
use crate::available::AvailableTime;
use crate::error::RepositoryError;
use crate::model::{CalendlyUser, RawJson};
use crate::ports::{
    MockAccountCache, MockClock, MockOAuthStarts, MockSchedulingProvider, MockTokenRepository,
};

const NOW: &str = "2030-01-01T00:00:00Z";

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("valid time")
        .to_utc()
}

fn user_id() -> UserId {
    UserId::parse("42").expect("valid user id")
}

fn token() -> CalendlyToken {
    CalendlyToken::parse("calendly-pat").expect("valid token")
}

fn calendly_user() -> CalendlyUser {
    CalendlyUser {
        uri: CalendlyUserUri::parse("https://api.calendly.com/users/AAAA").expect("uri"),
        name: "John Doe".into(),
        email: "user@example.com".into(),
        scheduling_url: "https://calendly.com/acmesales".into(),
        timezone: "America/New York".into(),
        organization: Some("https://api.calendly.com/organizations/ORG".into()),
    }
}

fn connection() -> CalendlyConnection {
    CalendlyConnection {
        user_id: user_id(),
        credential: CalendlyCredential::PersonalAccessToken(token()),
        calendly_user: calendly_user(),
        connected_at: at("2029-12-01T00:00:00Z"),
        webhooks: crate::webhook::Webhooks::Off,
        scopes: None,
    }
}

fn event_type(uri: &str) -> EventType {
    EventType {
        uri: EventTypeUri::parse(uri).expect("uri"),
        duration_minutes: Some(30),
        active: true,
        json: RawJson::parse(json!({ "uri": uri, "name": "Meeting" }).to_string()).expect("json"),
    }
}

/// An available time with `seats` left, as an adapter fills it: the fields the use cases read,
/// and the provider's object (here a stand-in's, which only clients read).
fn available(start: &str, seats: u32) -> AvailableTime {
    AvailableTime {
        start_time: at(start),
        seats_left: Some(u64::from(seats)),
        booking_url: Some(format!("https://book.example/{start}")),
        json: RawJson::parse(json!({ "start": start, "seats": seats }).to_string()).expect("json"),
    }
}

fn details() -> serde_json::Value {
    json!({ "title": "Unauthenticated", "message": "The access token is invalid" })
}

fn clock() -> MockClock {
    let mut clock = MockClock::new();
    clock.expect_now().returning(|| at(NOW));
    clock
}

fn connected_repository() -> MockTokenRepository {
    let mut tokens = MockTokenRepository::new();
    tokens
        .expect_load()
        .with(eq(user_id()))
        .returning(|_| Ok(Some(Arc::new(connection()))));
    tokens
}

/// Detached tasks on the test's runtime.
struct Spawned;

impl crate::ports::TaskRunner for Spawned {
    fn run_detached(&self, task: futures::future::BoxFuture<'static, ()>) {
        drop(tokio::spawn(task));
    }
}

/// What reads deliveries, for the use cases' tests: a delivery is signed by a key when its
/// signature is `signed-by:<key>`, and its body is its event's name (the adapter's reading of
/// Calendly's signatures and bodies is tested in the adapter).
pub(super) struct FakeDeliveries;

impl crate::ports::WebhookDeliveries for FakeDeliveries {
    fn read(
        &self,
        keys: &[&crate::webhook::SigningKey],
        signature: Option<&str>,
        body: &[u8],
        _now: DateTime<Utc>,
        _tolerance: TimeDelta,
    ) -> Result<crate::webhook::Delivery, crate::webhook::SignatureError> {
        use crate::webhook::{Change, Delivery, SignatureError};
        let signature = signature.ok_or(SignatureError::Missing)?;
        if !keys.iter().any(|key| signature == signed_by(key)) {
            return Err(SignatureError::Mismatch);
        }
        let event = std::str::from_utf8(body)
            .ok()
            .filter(|event| event.contains('.'))
            .map(str::to_owned);
        let change = match event.as_deref() {
            Some(event) if event.starts_with("invitee.") => Change::Times,
            Some(event) if event.starts_with("event_type.") => Change::Everything,
            _ => Change::Nothing,
        };
        Ok(Delivery { event, change })
    }
}

/// The signature [`FakeDeliveries`] takes as made with `key`.
pub(super) fn signed_by(key: &crate::webhook::SigningKey) -> String {
    format!("signed-by:{}", key.expose())
}

/// A cache that may be told anything.
fn any_cache() -> MockAccountCache {
    let mut cache = MockAccountCache::new();
    cache.expect_forget().returning(|_| ());
    cache
}

/// A test's ports: `tokens` and `scheduling`, a cache that may be told anything, no OAuth, no
/// webhook subscription expected, detached tasks on the test's runtime, the clock at `NOW`.
/// A test changes what it needs with `Ports { …, ..ports(…) }`.
fn ports(
    tokens: MockTokenRepository,
    scheduling: impl crate::ports::SchedulingProvider + 'static,
) -> Ports {
    Ports {
        tokens: Arc::new(tokens),
        scheduling: Arc::new(scheduling),
        account_cache: Arc::new(any_cache()),
        answers: Arc::new(crate::NoKeptAnswers),
        oauth: None,
        oauth_starts: Arc::new(MockOAuthStarts::new()),
        subscriptions: Arc::new(crate::ports::MockWebhookSubscriptions::new()),
        deliveries: Arc::new(FakeDeliveries),
        tasks: Arc::new(Spawned),
        clock: Arc::new(clock()),
    }
}

fn service_with_cache(
    tokens: MockTokenRepository,
    scheduling: MockSchedulingProvider,
    cache: MockAccountCache,
) -> SchedulingService {
    SchedulingService::new(
        Ports {
            account_cache: Arc::new(cache),
            answers: Arc::new(crate::NoKeptAnswers),
            ..ports(tokens, scheduling)
        },
        AvailabilityPolicy::default(),
    )
}

fn service(tokens: MockTokenRepository, scheduling: MockSchedulingProvider) -> SchedulingService {
    service_with_cache(tokens, scheduling, any_cache())
}

fn query(start: &str, end: &str, event_type: Option<&str>) -> AvailabilityQuery {
    AvailabilityQuery {
        start: at(start),
        end: at(end),
        event_type: event_type.map(|uri| EventTypeUri::parse(uri).expect("uri")),
    }
}
