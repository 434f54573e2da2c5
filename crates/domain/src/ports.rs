//! What the use cases need from the outside world. Each port states when an adapter must
//! return which error; nothing above an adapter sees a driver's own error type.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::available::AvailableTimes;
use crate::error::{AuthError, ProviderError, RepositoryError};
pub use crate::kept::{AskedTimes, KeepAnswer, KeepFuture, KeptAnswers, NoKeptAnswers, Recall};
use crate::model::{
    BusyTime, CalendlyConnection, CalendlyCredential, CalendlyToken, CalendlyUser, CalendlyUserUri,
    EventType, EventTypeUri, RawJson, UserId,
};
use crate::oauth::{
    AuthorizationCode, OAuthAuthorization, OAuthGrant, OAuthStart, OAuthStateToken, PkceVerifier,
};
use crate::time_range::TimeRange;
use crate::webhook::{
    Delivery, HookId, HookSigning, NewHook, SignatureError, SigningKey, SubscriptionState, Webhooks,
};

/// Turns the application's bearer token into the user it was issued for.
///
/// Errors:
/// - [`AuthError::Missing`] when `bearer_token` is empty;
/// - [`AuthError::Expired`] when it was valid but its lifetime is over;
/// - [`AuthError::Invalid`] for everything else that is not a token this service accepts
///   (malformed, wrong algorithm, wrong key, required claim missing or not yet valid).
#[cfg_attr(feature = "mock", mockall::automock)]
pub trait UserAuth: Send + Sync {
    fn authenticate(&self, bearer_token: &str) -> Result<UserId, AuthError>;
}

/// Keeps each user's Calendly connection. The credential is protected at rest by the adapter;
/// callers see it in clear only as a [`CalendlyToken`].
///
/// Errors, for every method:
/// - [`RepositoryError::Unavailable`] when the store cannot be reached or does not answer in
///   time (pool exhausted, connection refused, statement timeout);
/// - [`RepositoryError::Undecryptable`] from `load` when a stored credential fails authentication
///   (wrong key, tampered value);
/// - [`RepositoryError::Unexpected`] for anything else.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait TokenRepository: Send + Sync {
    /// Stores `connection`, replacing the user's earlier one. Concurrent saves for one user
    /// leave exactly one of them, whole.
    async fn save(&self, connection: &CalendlyConnection) -> Result<(), RepositoryError>;

    /// The user's connection, or `None` when there is none: shared, so that a store that
    /// keeps connections in memory hands one out without copying it.
    async fn load(
        &self,
        user_id: &UserId,
    ) -> Result<Option<Arc<CalendlyConnection>>, RepositoryError>;

    /// Removes the user's connection; `true` when there was one.
    async fn delete(&self, user_id: &UserId) -> Result<bool, RepositoryError>;

    /// Succeeds when the store answers.
    async fn ping(&self) -> Result<(), RepositoryError>;

    /// The account and signing of the connection whose webhook subscription (active or
    /// disabled) has `hook_id`; `None` when no connection has it.
    async fn find_hook(&self, hook_id: &HookId) -> Result<Option<HookedAccount>, RepositoryError>;

    /// Stores `webhooks` as the user's subscription, changing nothing else of the connection,
    /// if the stored connection's subscription is still the one whose hook id is `expected`
    /// (`None`: none): `false` when it is not (the user connected again meanwhile, or
    /// disconnected).
    async fn set_webhooks<'a>(
        &self,
        user_id: &UserId,
        expected: Option<&'a HookId>,
        webhooks: &Webhooks,
    ) -> Result<bool, RepositoryError>;

    /// Locks the user's connection for renewing its credential, waiting while another request
    /// or instance holds it; `None` when there is no connection. The lease holds the
    /// connection as stored once locked: a renewal made meanwhile is in it.
    async fn lock_for_refresh(
        &self,
        user_id: &UserId,
    ) -> Result<Option<Box<dyn RefreshLease>>, RepositoryError>;
}

/// Whose a webhook subscription is: the account its deliveries are about, and whose key
/// signs them.
#[derive(Debug, Clone)]
pub struct HookedAccount {
    pub user_id: UserId,
    pub account: CalendlyUserUri,
    pub signing: HookSigning,
}

/// When each connection's webhook subscription is next looked at, kept where every instance
/// sees it, so that one instance looks at each (not every instance).
///
/// Errors: as [`TokenRepository`]'s.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait WebhookChecks: Send + Sync {
    /// Takes at most `limit` connections (with webhooks on) whose check is due at `now`
    /// (never checked, or last due before `now`), most overdue first, and sets their next
    /// check to `next`. Of instances claiming at once, each connection goes to one.
    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        next: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<UserId>, RepositoryError>;

    /// How many connections have webhooks on (checked at each interval).
    async fn watched(&self) -> Result<u64, RepositoryError>;
}

/// A connection locked for renewing its credential: no one else can renew it until the lease
/// is committed or dropped. Dropping it changes nothing.
///
/// Errors: as [`TokenRepository`]'s.
#[async_trait]
pub trait RefreshLease: Send {
    /// The connection as stored when the lock was taken.
    fn connection(&self) -> &CalendlyConnection;

    /// Stores `credential` as the connection's, then releases the lock: the new credential
    /// is stored before anyone uses it. The connection as now stored.
    async fn commit(
        self: Box<Self>,
        credential: CalendlyCredential,
    ) -> Result<CalendlyConnection, RepositoryError>;
}

/// OAuth starts awaiting Calendly's callback, kept where every instance finds them (a start on
/// one instance may come back to another). The verifier is protected at rest, and the state
/// is kept only as a hash.
///
/// Errors, for every method: as [`TokenRepository`]'s — [`RepositoryError::Unavailable`],
/// [`RepositoryError::Undecryptable`] (from `take_start`, a verifier that does not open),
/// [`RepositoryError::Unexpected`].
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait OAuthStarts: Send + Sync {
    /// Keeps `start` under `state` until it is taken or expires. Starts expired by then are
    /// forgotten.
    async fn save_start(
        &self,
        state: &OAuthStateToken,
        start: &OAuthStart,
    ) -> Result<(), RepositoryError>;

    /// The start kept under `state`, removed so that no one can take it again; `None` when
    /// none is kept, or it expired before `now`. Of concurrent takes of one state, one at most
    /// gets it.
    async fn take_start(
        &self,
        state: &OAuthStateToken,
        now: DateTime<Utc>,
    ) -> Result<Option<OAuthStart>, RepositoryError>;
}

/// The scheduling service (Calendly) seen through one user's credential.
///
/// Errors, for every method:
/// - [`ProviderError::CredentialRejected`] when the provider does not accept `token` (its 401);
/// - [`ProviderError::Rejected`] when it refuses the request: bad argument (400), forbidden (403),
///   not found (404), conflict (409);
/// - [`ProviderError::RateLimited`] on its 429, with the wait it asks for;
/// - [`ProviderError::Timeout`] when no complete answer came within the deadline;
/// - [`ProviderError::Unavailable`] for its 5xx, a connection failure, or an answer that is not
///   its documented format (a field the gateway needs is missing or malformed).
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait SchedulingProvider: Send + Sync {
    /// The user the token belongs to.
    async fn current_user(&self, token: &CalendlyToken) -> Result<CalendlyUser, ProviderError>;

    /// Every event type of `user`, all pages, in the provider's order, each once.
    async fn event_types(
        &self,
        token: &CalendlyToken,
        user: &CalendlyUserUri,
    ) -> Result<Arc<[EventType]>, ProviderError>;

    /// The bookable times of `event_type`, one of `account`'s, within `range`, which must be
    /// no longer than the provider accepts in one call.
    async fn available_times(
        &self,
        token: &CalendlyToken,
        account: &CalendlyUserUri,
        event_type: &EventTypeUri,
        range: TimeRange,
    ) -> Result<AvailableTimes, ProviderError>;

    /// The times `user` is busy within `range`, which must be no longer than the provider
    /// accepts in one call, in the provider's order.
    async fn busy_times(
        &self,
        token: &CalendlyToken,
        user: &CalendlyUserUri,
        range: TimeRange,
    ) -> Result<Vec<BusyTime>, ProviderError>;

    /// The availability schedules of `user`, each as the provider wrote it.
    async fn availability_schedules(
        &self,
        token: &CalendlyToken,
        user: &CalendlyUserUri,
    ) -> Result<Vec<RawJson>, ProviderError>;

    /// Whether `account`'s remaining calls hold what answering `asked` would cost now (what is
    /// kept answers for nothing): [`ProviderError::RateLimited`], with the wait, when it is
    /// known that they do not, so that a question is refused before its first call rather than
    /// half-way. Asks nothing of the provider. By default every question may be asked.
    async fn afford(
        &self,
        _account: &CalendlyUserUri,
        _asked: &[TimesAsked],
    ) -> Result<(), ProviderError> {
        Ok(())
    }
}

/// One question about times, as [`SchedulingProvider::afford`] prices it: an event type's
/// available times, or (`event_type` none) the busy times, within `range`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimesAsked {
    pub event_type: Option<EventTypeUri>,
    pub range: TimeRange,
}

/// The provider's webhook subscriptions, made with a user's credential, scope `user`, for the
/// events the gateway acts on (invitees created and canceled, event types created, updated and
/// deleted).
///
/// Errors: as [`SchedulingProvider`]'s; in particular [`ProviderError::Rejected`] with
/// [`crate::Rejection::Conflict`] when a subscription with that URL exists, and with
/// [`crate::Rejection::Forbidden`] when the user's plan has no webhooks.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait WebhookSubscriptions: Send + Sync {
    /// A new hook: a random id and a random signing key. No call is made.
    fn new_hook(&self) -> NewHook;

    /// Subscribes `user`, of `organization`, with deliveries to `url` signed with `key` (for a
    /// personal access token; `None` for an OAuth token, whose subscriptions the provider signs
    /// with the application's key): the subscription's URI.
    async fn subscribe<'a>(
        &self,
        token: &CalendlyToken,
        user: &CalendlyUserUri,
        organization: &str,
        url: &str,
        key: Option<&'a SigningKey>,
    ) -> Result<String, ProviderError>;

    /// The state of the subscription at `uri`, made for `user`; `None` when it is gone.
    async fn state(
        &self,
        token: &CalendlyToken,
        user: &CalendlyUserUri,
        uri: &str,
    ) -> Result<Option<SubscriptionState>, ProviderError>;

    /// The URI of `user`'s subscription with deliveries to `url`, if there is one.
    async fn find(
        &self,
        token: &CalendlyToken,
        user: &CalendlyUserUri,
        organization: &str,
        url: &str,
    ) -> Result<Option<String>, ProviderError>;

    /// Deletes the subscription at `uri`; one already gone counts as deleted.
    async fn unsubscribe(&self, token: &CalendlyToken, uri: &str) -> Result<(), ProviderError>;
}

/// Reads the provider's webhook deliveries: checks a delivery's signature against the keys
/// that may have signed it, then says what it changed. No call is made.
///
/// Errors: [`SignatureError`] when the signature is missing, malformed, outside `tolerance` of
/// `now`, or made with none of `keys`.
#[cfg_attr(feature = "mock", mockall::automock)]
pub trait WebhookDeliveries: Send + Sync {
    fn read<'a>(
        &self,
        keys: &[&'a SigningKey],
        signature: Option<&'a str>,
        body: &[u8],
        now: DateTime<Utc>,
        tolerance: chrono::TimeDelta,
    ) -> Result<Delivery, SignatureError>;
}

/// The scheduling service's OAuth server, for the gateway's registered application (its client
/// id, secret and redirect URI are the adapter's).
///
/// Errors, for every method:
/// - [`ProviderError::CredentialRejected`] when it refuses the code or the refresh token
///   (`invalid_grant`: expired, already used, revoked): the user must connect again;
/// - [`ProviderError::RateLimited`] on its 429;
/// - [`ProviderError::Timeout`] when no complete answer came within the deadline;
/// - [`ProviderError::Unavailable`] for its 5xx, a connection failure, an answer that is not
///   its documented format, or a refusal of the application itself (`invalid_client`: the
///   gateway's configuration is wrong, which no user can mend).
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait OAuthProvider: Send + Sync {
    /// A new authorization: a random state, a random PKCE verifier, and the URL of the
    /// server's authorization page for them. No call is made.
    fn authorization(&self) -> OAuthAuthorization;

    /// The tokens for the code the browser came back with, proven by the start's verifier.
    async fn exchange_code(
        &self,
        code: &AuthorizationCode,
        verifier: &PkceVerifier,
    ) -> Result<OAuthGrant, ProviderError>;

    /// A new pair for `refresh_token`, which stops working.
    async fn refresh(&self, refresh_token: &CalendlyToken) -> Result<OAuthGrant, ProviderError>;

    /// Revokes `token` (an access or a refresh token).
    async fn revoke(&self, token: &CalendlyToken) -> Result<(), ProviderError>;
}

/// What adapters remember of the provider's answers, by the Calendly account they belong to
/// (caching is a decorator of [`SchedulingProvider`] on the adapter side; the use cases only
/// say when an account's answers are stale).
///
/// Errors: none; forgetting succeeds or there was nothing to forget.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait AccountCache: Send + Sync {
    /// Forgets every answer remembered for `account`: the next question about it asks the
    /// provider.
    async fn forget(&self, account: &CalendlyUserUri);

    /// Forgets `account`'s available and busy times (a booking changed them); its event
    /// types stay.
    async fn forget_times(&self, account: &CalendlyUserUri);

    /// As [`Self::forget`] (`all`) or [`Self::forget_times`], told by another instance that
    /// forgot the account at `at` (its clock): no answer stored before then is served, from
    /// whatever tier.
    async fn forget_since(&self, account: &CalendlyUserUri, all: bool, _at: DateTime<Utc>) {
        if all {
            self.forget(account).await;
        } else {
            self.forget_times(account).await;
        }
    }

    /// Whether this instance hears every forgetting the other instances make. While it does
    /// not (`false`), it may miss some, so it serves no answer it kept itself; each change
    /// forgets everything kept. By default there is nothing to hear.
    async fn hearing(&self, _hearing: bool) {}
}

/// Runs work that must finish even when the request that started it is abandoned (a client
/// that goes away mid-request): renewing a credential, whose old refresh token is spent once
/// the provider has answered.
///
/// Errors: none; the task reports its own outcome.
pub trait TaskRunner: Send + Sync {
    /// Starts `task` on its own; it runs to its end whatever becomes of the caller.
    fn run_detached(&self, task: futures::future::BoxFuture<'static, ()>);
}

/// The current time, so that use cases that depend on it can be tested.
#[cfg_attr(feature = "mock", mockall::automock)]
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// The system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}
