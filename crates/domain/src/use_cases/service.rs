//! The use cases' service: the ports it runs on and the policies it follows.

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};

use super::renewals::Renewals;
use crate::booking::{BookingProvider, IdempotencyKeys, SlotHolds};
use crate::model::EventTypeUri;
use crate::ports::{
    AccountCache, Clock, KeptAnswers, OAuthProvider, OAuthStarts, SchedulingProvider, TaskRunner,
    TokenRepository, WebhookDeliveries, WebhookSubscriptions,
};
use crate::webhook::SigningKey;

/// How availability checks are bounded and cut up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AvailabilityPolicy {
    /// Longest range a client may ask for (`limits.max_range_days`).
    pub max_range: TimeDelta,
    /// Longest range the provider accepts in one call (`calendly.max_days_per_call`).
    pub max_call_span: TimeDelta,
    /// Longest range of busy times the provider answers in one call
    /// (`calendly.max_busy_days_per_call`).
    pub max_busy_call_span: TimeDelta,
    /// Most event types one slots question may be about (`limits.max_event_types_per_request`).
    pub max_event_types: usize,
    /// How many provider calls one check may have in flight at once.
    pub max_concurrent_calls: usize,
    /// How far ahead of now the earliest start asked of the provider lies. The provider
    /// refuses a start that is past when it reads it, which is later than when it was sent.
    pub start_lead: TimeDelta,
}

impl Default for AvailabilityPolicy {
    fn default() -> Self {
        Self {
            max_range: TimeDelta::days(365),
            max_call_span: TimeDelta::days(31),
            max_busy_call_span: TimeDelta::days(7),
            max_event_types: 10,
            max_concurrent_calls: 4,
            start_lead: TimeDelta::minutes(1),
        }
    }
}

/// An availability question: between two times, for one event type or the user's first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AvailabilityQuery {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub event_type: Option<EventTypeUri>,
}

/// The adapters the use cases run on.
#[derive(Clone)]
pub struct Ports {
    pub tokens: Arc<dyn TokenRepository>,
    /// The provider, usually behind a cache of its answers.
    pub scheduling: Arc<dyn SchedulingProvider>,
    /// That cache, told when an account's answers are stale.
    pub account_cache: Arc<dyn AccountCache>,
    /// Whole answers to availability questions, kept by that cache ([`crate::NoKeptAnswers`]
    /// without one).
    pub answers: Arc<dyn KeptAnswers>,
    /// Calendly's OAuth server for the gateway's application; `None` when OAuth is not
    /// configured.
    pub oauth: Option<Arc<dyn OAuthProvider>>,
    pub oauth_starts: Arc<dyn OAuthStarts>,
    /// The provider's webhook subscriptions.
    pub subscriptions: Arc<dyn WebhookSubscriptions>,
    /// What reads the provider's webhook deliveries.
    pub deliveries: Arc<dyn WebhookDeliveries>,
    /// Where renewals run, detached from the request.
    pub tasks: Arc<dyn TaskRunner>,
    pub clock: Arc<dyn Clock>,
}

impl fmt::Debug for Ports {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ports").finish_non_exhaustive()
    }
}

/// The ports booking runs on.
#[derive(Clone)]
pub struct BookingPorts {
    pub provider: Arc<dyn BookingProvider>,
    pub keys: Arc<dyn IdempotencyKeys>,
    pub holds: Arc<dyn SlotHolds>,
}

impl std::fmt::Debug for BookingPorts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BookingPorts").finish_non_exhaustive()
    }
}

/// The gateway's use cases, over the ports the application wires in.
#[derive(Clone)]
pub struct SchedulingService {
    pub(super) ports: Ports,
    pub(super) policy: AvailabilityPolicy,
    pub(super) renewals: Arc<Renewals>,
    pub(super) webhooks: WebhookPolicy,
    /// What booking runs on; `None`: not wired in.
    pub(super) bookings: Option<BookingPorts>,
}

impl fmt::Debug for SchedulingService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SchedulingService")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl SchedulingService {
    pub fn new(ports: Ports, policy: AvailabilityPolicy) -> Self {
        Self {
            ports,
            policy,
            renewals: Arc::default(),
            webhooks: WebhookPolicy::default(),
            bookings: None,
        }
    }

    /// The same use cases, booking through `bookings`.
    #[must_use]
    pub fn with_bookings(self, bookings: BookingPorts) -> Self {
        Self {
            bookings: Some(bookings),
            ..self
        }
    }

    /// The same use cases, subscribing connections to the provider's webhooks as `webhooks`
    /// says.
    #[must_use]
    pub fn with_webhooks(self, webhooks: WebhookPolicy) -> Self {
        Self { webhooks, ..self }
    }

    /// The same use cases, coordinating renewals with every service given `renewals` (those of
    /// one process).
    #[must_use]
    pub fn sharing(self, renewals: Arc<Renewals>) -> Self {
        Self { renewals, ..self }
    }
}

/// Whether, and how, connections subscribe to the provider's webhooks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookPolicy {
    /// The gateway's base URL as the provider reaches it; `None`: no subscriptions.
    pub public_base_url: Option<String>,
    /// How far a delivery's signature time may lie from now, either way.
    pub tolerance: TimeDelta,
    /// The OAuth application's webhook signing keys, the current first (then the previous,
    /// while it is rotated): the provider signs the deliveries of subscriptions made with
    /// OAuth tokens with it.
    pub application_keys: Vec<SigningKey>,
}

impl Default for WebhookPolicy {
    fn default() -> Self {
        Self {
            public_base_url: None,
            tolerance: TimeDelta::seconds(180),
            application_keys: Vec::new(),
        }
    }
}
