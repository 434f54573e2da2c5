//! What booking needs of the outside world: the provider that books, the keys that make a
//! retried booking answer once, and the holds that let one booking of a seat run at a time
//! whichever instance it reaches.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::form::BookingForm;
use super::model::{Booking, BookingId, BookingRequest, BookingsQuery, IdempotencyKey};
use crate::error::{ProviderError, RepositoryError};
use crate::model::{CalendlyToken, CalendlyUserUri, EventType, EventTypeUri, UserId};

/// The provider's bookings, made and read with the host's credential.
///
/// Errors: as [`crate::SchedulingProvider`]'s; in particular
/// [`ProviderError::Rejected`] with [`crate::Rejection::Unavailable`] when the time asked is
/// not bookable, [`crate::Rejection::NotFound`] for a booking that is not the host's, and
/// [`crate::Rejection::Conflict`] for cancelling one already canceled.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait BookingProvider: Send + Sync {
    /// What booking `event_type` asks, read from what the provider wrote of it: no call.
    fn form(&self, event_type: &EventType) -> Result<BookingForm, ProviderError>;

    /// Books `request` with `account` as the host: the booking, with its invitees. When the
    /// account's booking limit is known to be spent, [`ProviderError::RateLimited`] without a
    /// call.
    async fn book(
        &self,
        token: &CalendlyToken,
        account: &CalendlyUserUri,
        request: &BookingRequest,
    ) -> Result<Booking, ProviderError>;

    /// The host's bookings that `query` asks for, every page, sorted by start, without their
    /// invitees.
    async fn bookings(
        &self,
        token: &CalendlyToken,
        account: &CalendlyUserUri,
        query: &BookingsQuery,
    ) -> Result<Vec<Booking>, ProviderError>;

    /// One of the host's bookings, with its invitees.
    async fn booking(
        &self,
        token: &CalendlyToken,
        account: &CalendlyUserUri,
        id: &BookingId,
    ) -> Result<Booking, ProviderError>;

    /// Cancels one of the host's bookings, telling its invitees `reason`.
    async fn cancel<'a>(
        &self,
        token: &CalendlyToken,
        account: &CalendlyUserUri,
        id: &BookingId,
        reason: Option<&'a str>,
    ) -> Result<(), ProviderError>;
}

/// What a booking's idempotency key says when it is claimed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The key is this request's: it books. `after_doubt`: an earlier attempt with the key may
    /// have booked without its answer arriving (or its instance stopped), so the provider is
    /// asked first.
    Claimed { after_doubt: bool },
    /// Another request with the key is running.
    Running,
    /// The key's booking, answered before.
    Answered(Box<Booking>),
    /// The key was used with another body.
    Reused,
}

/// Idempotency keys of bookings, per user, kept where every instance sees them, for a day.
///
/// Errors: as [`crate::TokenRepository`]'s.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait IdempotencyKeys: Send + Sync {
    /// Claims `key` for a booking whose body is `fingerprint` (the same body, the same text).
    /// Of requests claiming one key at once, one gets it. A claim running past its lease (its
    /// instance stopped) is given to the next with `after_doubt`.
    async fn claim(
        &self,
        user: &UserId,
        key: &IdempotencyKey,
        fingerprint: &str,
        now: DateTime<Utc>,
    ) -> Result<Claim, RepositoryError>;

    /// Keeps `booking` as the key's answer.
    async fn answer(
        &self,
        user: &UserId,
        key: &IdempotencyKey,
        booking: &Booking,
    ) -> Result<(), RepositoryError>;

    /// The attempt ended without booking: the key is free again.
    async fn forget(&self, user: &UserId, key: &IdempotencyKey) -> Result<(), RepositoryError>;

    /// The attempt ended not knowing whether it booked: the next claim looks first.
    async fn doubt(&self, user: &UserId, key: &IdempotencyKey) -> Result<(), RepositoryError>;
}

/// One seat of a time, held while it is being booked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotHold {
    pub event_type: EventTypeUri,
    pub start_time: DateTime<Utc>,
    pub seat: u32,
}

/// Seats of times being booked, kept where every instance sees them: a one-seat time is
/// booked by one request at a time, a group's by as many as it has seats left.
///
/// Errors: as [`crate::TokenRepository`]'s.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait SlotHolds: Send + Sync {
    /// One of the `seats` seats of `event_type` at `start_time`, held until `until` unless
    /// released; `None` when every one is held. Holds past their time are not counted.
    async fn hold(
        &self,
        event_type: &EventTypeUri,
        start_time: DateTime<Utc>,
        seats: u32,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Option<SlotHold>, RepositoryError>;

    /// Lets the seat go.
    async fn release(&self, hold: &SlotHold) -> Result<(), RepositoryError>;

    /// Lets every seat of the time go (a booking of it was canceled).
    async fn release_all(
        &self,
        event_type: &EventTypeUri,
        start_time: DateTime<Utc>,
    ) -> Result<(), RepositoryError>;
}
