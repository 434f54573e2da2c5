//! The Calendly gateway's domain: what a user's Calendly connection is, what the gateway
//! asks of the outside world (the ports), and the use cases built on those ports.
//!
//! Nothing here knows HTTP, SQL or Calendly's wire format; adapters translate.

mod available;
pub mod booking;
pub mod error;
mod invalid;
mod kept;
pub mod model;
pub mod oauth;
pub mod ports;
pub mod scope;
pub mod time_range;
pub mod use_cases;
pub mod webhook;

pub use available::{AvailableTime, AvailableTimes, JsonPiece, TimeList};
pub use error::{AuthError, GatewayError, ProviderError, RangeError, Rejection, RepositoryError};
pub use model::{
    BusyTime, CalendlyConnection, CalendlyCredential, CalendlyToken, CalendlyUser, CalendlyUserUri,
    ConnectionMethod, EventType, EventTypeUri, InvalidValue, RawJson, UserId,
};
pub use oauth::{
    AuthorizationCode, OAuthAuthorization, OAuthCallback, OAuthGrant, OAuthStart, OAuthStateToken,
    PkceVerifier,
};
pub use ports::{
    AccountCache, AskedTimes, Clock, HookedAccount, KeepAnswer, KeptAnswers, NoKeptAnswers,
    OAuthProvider, OAuthStarts, Recall, RefreshLease, SchedulingProvider, SystemClock, TaskRunner,
    TimesAsked, TokenRepository, UserAuth, WebhookChecks, WebhookDeliveries, WebhookSubscriptions,
};
pub use scope::{OPERATION_SCOPES, Scope, Scopes};
pub use time_range::TimeRange;
pub use use_cases::{
    AvailabilityPolicy, AvailabilityQuery, Booked, BookingPorts, HOLD_LIFETIME,
    OAUTH_START_LIFETIME, Ports, Renewals, SchedulingService, Slot, SlotDay, Slots, SlotsQuery,
    TOKEN_CALL_SPACING, WebhookPolicy, WebhookReceipt,
};
pub use webhook::{
    Change, Delivery, HookId, HookSigning, NewHook, SignatureError, SigningKey, Subscription,
    SubscriptionState, Webhooks,
};
