//! What can go wrong, in the domain's words. Adapters translate their driver errors into these;
//! `app-http` maps them to HTTP once.

use std::time::Duration;

use serde_json::Value;

use crate::model::EventTypeUri;
use crate::scope::Scope;

/// Why a bearer token did not authenticate anyone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No credential was presented at all.
    #[error("no credential was presented")]
    Missing,
    /// The credential is malformed, badly signed, or otherwise not one this service issued.
    #[error("the credential is not valid")]
    Invalid,
    /// The credential was valid once but its lifetime is over.
    #[error("the credential has expired")]
    Expired,
}

/// Why the token store could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum RepositoryError {
    /// The store cannot be reached or did not answer in time; the request may succeed later.
    #[error("the token store is unavailable: {0}")]
    Unavailable(String),
    /// A stored credential exists but cannot be decrypted (wrong key, tampered value).
    /// The user must connect again.
    #[error("the stored Calendly credential cannot be decrypted")]
    Undecryptable,
    /// Anything else: a bug or a broken invariant, never the caller's fault.
    #[error("the token store failed")]
    Unexpected(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Which of its arguments Calendly turned down, for errors that are the request's fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    BadArgument,
    Forbidden,
    NotFound,
    Conflict,
    /// The time asked to book is not bookable (taken meanwhile, or never offered).
    TimeUnavailable,
}

/// Why the scheduling provider (Calendly) did not answer as hoped.
/// `details` is the provider's own error body, passed on to the client as it was.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ProviderError {
    /// The provider no longer accepts the stored credential; the user must reconnect.
    #[error("the scheduling provider rejected the credential")]
    CredentialRejected { details: Value },
    /// The provider understood the request and refused it.
    #[error("the scheduling provider refused the request: {reason:?}")]
    Rejected { reason: Rejection, details: Value },
    /// The credential lacks a scope the call needs: known before the call from the scopes the
    /// connection was granted (`details` null), or the provider's 403 saying so.
    #[error("the credential lacks the scope {scope}")]
    ScopeMissing { scope: Scope, details: Value },
    /// Too many requests; `retry_after` is when the provider says to try again.
    #[error("the scheduling provider's rate limit was reached")]
    RateLimited {
        retry_after: Option<Duration>,
        details: Value,
    },
    /// The provider failed, could not be reached, or answered something that is not its
    /// documented format.
    #[error("the scheduling provider failed: {reason}")]
    Unavailable { reason: String },
    /// The provider did not answer within the deadline.
    #[error("the scheduling provider did not answer in time")]
    Timeout,
}

/// What is wrong with a range of time asked about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RangeError {
    /// The end is not after the start.
    #[error("the range ends before it starts")]
    EndNotAfterStart,
    /// The range is longer than the policy allows.
    #[error("the range is longer than {max_days} days")]
    TooLong { max_days: i64 },
}

/// Why a use case did not complete. The texts speak of the domain; what a client is told is
/// worded where errors become responses.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error("the user has no Calendly connection")]
    NotConnected,
    #[error("the Calendly user has no event types")]
    NoEventTypes,
    #[error("event type {0} is not one of the user's")]
    EventTypeNotFound(EventTypeUri),
    #[error(transparent)]
    InvalidRange(#[from] RangeError),
    /// More event types asked about at once (or, none asked, active) than the policy allows.
    #[error("more than {max} event types")]
    TooManyEventTypes { max: usize },
    /// Connecting failed because the provider does not accept the credential.
    #[error("the scheduling provider does not accept the credential")]
    TokenRejected { details: Value },
    /// OAuth is not configured: there is no application registered with the provider.
    #[error("OAuth is not configured")]
    OAuthNotConfigured,
    /// An OAuth callback without a state, or with one that is unknown, expired or used.
    #[error("the OAuth state is unknown, expired or already used")]
    InvalidOAuthState,
    /// An OAuth completion by a user other than the one who started it (the start is spent).
    #[error("the OAuth start belongs to another user")]
    OAuthUserMismatch,
    /// The user declined the authorization at the provider.
    #[error("the user declined the authorization")]
    AuthorizationDenied,
    /// An OAuth callback without a code, or with one the provider refuses (`details` is its
    /// answer, when it gave one).
    #[error("the provider does not accept the authorization code")]
    CodeRejected { details: Value },
    /// The stored OAuth credential can no longer be renewed (the provider refused its refresh
    /// token): the user must connect again.
    #[error("the OAuth connection must be made again")]
    ReauthRequired,
    /// A webhook delivery for a hook no connection has (any more).
    #[error("no webhook subscription has this id")]
    HookNotFound,
    /// A webhook delivery whose signature does not hold.
    #[error("the webhook signature is not valid: {0}")]
    InvalidSignature(#[from] crate::webhook::SignatureError),
    /// The event type asked to book cannot be booked.
    #[error("event type {0} is not active")]
    EventTypeInactive(EventTypeUri),
    /// A booking the provider would refuse, or one that makes no sense: the text names the
    /// field.
    #[error("{0}")]
    InvalidBooking(String),
    /// The time asked to book is not among the event type's available times, or is taken.
    #[error("the time is not available")]
    SlotUnavailable,
    /// No booking of the user has this id.
    #[error("no booking of the user has this id")]
    BookingNotFound,
    #[error("the booking is already canceled")]
    BookingAlreadyCanceled,
    /// An idempotency key used before with another body.
    #[error("the idempotency key was used with another body")]
    IdempotencyKeyReused,
    /// A request with the same idempotency key is still running.
    #[error("a request with this idempotency key is still running")]
    RequestInProgress,
    #[error(transparent)]
    Provider(#[from] ProviderError),
    #[error(transparent)]
    Repository(#[from] RepositoryError),
}
