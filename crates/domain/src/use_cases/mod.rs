//! The use cases: connect (a personal access token, or OAuth) and disconnect a Calendly
//! account, and answer the three questions the web client asks (who am I, my event types, when
//! am I available), renewing an OAuth connection's access token on the way.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures::{FutureExt, StreamExt, TryStreamExt, stream};
use tracing::instrument;

use crate::available::AvailableTimes;
use crate::error::{GatewayError, ProviderError, RangeError, Rejection};
use crate::model::{
    CalendlyConnection, CalendlyCredential, CalendlyToken, CalendlyUserUri, EventType,
    EventTypeUri, UserId,
};
use crate::ports::{AskedTimes, Recall, TimesAsked};
use crate::scope::Scope;
use crate::time_range::TimeRange;
use crate::webhook::Webhooks;

mod booked;
mod bookings;
mod calendar;
mod oauth;
mod renewal;
mod renewals;
mod service;
mod slots;
#[cfg(test)]
mod tests;
mod webhook_health;
mod webhooks;

pub use bookings::{Booked, HOLD_LIFETIME};
pub use oauth::OAUTH_START_LIFETIME;
pub use renewals::{Renewals, TOKEN_CALL_SPACING};
pub use service::{
    AvailabilityPolicy, AvailabilityQuery, BookingPorts, Ports, SchedulingService, WebhookPolicy,
};
pub use slots::{Slot, SlotDay, Slots, SlotsQuery};
pub use webhooks::WebhookReceipt;

impl SchedulingService {
    /// Checks `token` with the provider, then stores it as the user's connection (subscribed
    /// to the provider's webhooks when they are on), replacing any earlier one (whose
    /// subscription is deleted), and forgets what is remembered of the account (connecting
    /// again refreshes it). A token the provider refuses is [`GatewayError::TokenRejected`] and
    /// nothing is stored.
    #[instrument(skip_all, fields(user_id = %user_id))]
    pub async fn connect(
        &self,
        user_id: UserId,
        token: CalendlyToken,
    ) -> Result<CalendlyConnection, GatewayError> {
        let calendly_user = self
            .ports
            .scheduling
            .current_user(&token)
            .await
            .map_err(|error| match error {
                ProviderError::CredentialRejected { details }
                | ProviderError::Rejected {
                    reason: Rejection::Forbidden,
                    details,
                } => GatewayError::TokenRejected { details },
                other => GatewayError::Provider(other),
            })?;
        let connection = self
            .establish(CalendlyConnection {
                user_id,
                credential: CalendlyCredential::PersonalAccessToken(token),
                calendly_user,
                connected_at: self.ports.clock.now(),
                webhooks: Webhooks::Off,
                scopes: None,
            })
            .await?;
        tracing::info!(calendly_user = %connection.calendly_user.uri, webhooks = connection.webhooks.status(), "Calendly account connected");
        Ok(connection)
    }

    /// Forgets the user's connection; succeeds also when there was none. Its webhook
    /// subscription is then deleted, and an OAuth connection's tokens revoked at the OAuth
    /// server; a failure there is logged and changes nothing. What is remembered of the account stays until it expires: it is reached only
    /// through a connection to it.
    #[instrument(skip_all, fields(user_id = %user_id))]
    pub async fn disconnect(&self, user_id: &UserId) -> Result<(), GatewayError> {
        // A connection that no longer decrypts is removed all the same.
        let stored = self.ports.tokens.load(user_id).await.ok().flatten();
        // Unsubscribed while still stored, so that an expired OAuth access token is renewed
        // first (and the newest refresh token revoked after).
        let stored = match stored {
            Some(connection) => Some(self.unsubscribed(connection).await),
            None => None,
        };
        let existed = self.ports.tokens.delete(user_id).await?;
        tracing::info!(existed, "Calendly account disconnected");
        if let Some(connection) = stored.filter(|_| existed) {
            self.revoke(&connection).await;
        }
        Ok(())
    }

    /// The user's connection, or [`GatewayError::NotConnected`].
    #[instrument(level = "debug", skip_all, fields(user_id = %user_id))]
    pub async fn connection(
        &self,
        user_id: &UserId,
    ) -> Result<Arc<CalendlyConnection>, GatewayError> {
        self.ports
            .tokens
            .load(user_id)
            .await?
            .ok_or(GatewayError::NotConnected)
    }

    /// The user's Calendly URI, as stored when they connected: no provider call.
    pub async fn user_uri(&self, user_id: &UserId) -> Result<CalendlyUserUri, GatewayError> {
        Ok(self.connection(user_id).await?.calendly_user.uri.clone())
    }

    /// Every event type of the user, in the provider's order.
    pub async fn event_types(&self, user_id: &UserId) -> Result<Arc<[EventType]>, GatewayError> {
        let connection = self.connection(user_id).await?;
        connection.require(Scope::EventTypesRead)?;
        self.with_renewal(connection, |connection| {
            async move { self.event_types_of(&connection).await }.boxed()
        })
        .await
    }

    /// When the user can be booked between `query.start` and `query.end`, for the event type
    /// asked for or else the user's first: sorted by start time, without duplicates.
    ///
    /// A range longer than the provider takes in one call is fetched in pieces, at most
    /// `max_concurrent_calls` at a time. The part of the range before now plus `start_lead` is
    /// dropped, since nothing can be booked there (and the provider refuses a past start); a
    /// range wholly before that has no available times.
    #[instrument(level = "debug", skip_all, fields(user_id = %user_id))]
    pub async fn check_availability(
        &self,
        user_id: &UserId,
        query: AvailabilityQuery,
    ) -> Result<AvailableTimes, GatewayError> {
        let requested = self.validated_range(query.start, query.end)?;
        let connection = self.connection(user_id).await?;
        connection.require(Scope::EventTypesRead)?;
        let query = &query;
        self.with_renewal(connection, |connection| {
            async move { self.available_between(&connection, query, requested).await }.boxed()
        })
        .await
    }

    async fn available_between(
        &self,
        connection: &CalendlyConnection,
        query: &AvailabilityQuery,
        requested: TimeRange,
    ) -> Result<AvailableTimes, GatewayError> {
        let account = &connection.calendly_user.uri;
        let asked = AskedTimes {
            account,
            event_type: query.event_type.as_ref(),
            range: requested,
        };
        let keep = match self.ports.answers.recall(&asked) {
            Recall::Kept(times) => return Ok(times.starting_at(self.earliest())),
            Recall::Keep(keep) => Some(keep),
            Recall::Nothing => None,
        };
        let event_type = self
            .chosen_event_type(connection, query.event_type.clone())
            .await?;
        let Some(range) = self.still_ahead(requested) else {
            return Ok(AvailableTimes::default());
        };
        let answer = self
            .available_within(connection, &event_type, range)
            .await?;
        if let Some(keep) = keep {
            keep.keep(&event_type, range, &answer).await;
        }
        Ok(answer)
    }

    /// The available times of `event_type` within `range` (all of it ahead), in as many calls
    /// as the provider needs.
    async fn available_within(
        &self,
        connection: &CalendlyConnection,
        event_type: &EventTypeUri,
        range: TimeRange,
    ) -> Result<AvailableTimes, GatewayError> {
        let token = connection.credential.access_token();
        let account = &connection.calendly_user.uri;
        let pieces = range.split(self.policy.max_call_span);
        if let [piece] = pieces[..] {
            // The usual question: one call, refused when it is made if the account's calls
            // are spent, and run without a stream.
            return Ok(self
                .ports
                .scheduling
                .available_times(token, account, event_type, piece)
                .await?);
        }
        let asked: Vec<TimesAsked> = pieces
            .iter()
            .map(|piece| TimesAsked {
                event_type: Some(event_type.clone()),
                range: *piece,
            })
            .collect();
        self.afford(account, &asked).await?;
        let pieces: Vec<AvailableTimes> = stream::iter(pieces)
            .map(|piece| {
                self.ports
                    .scheduling
                    .available_times(token, account, event_type, piece)
            })
            .buffered(self.policy.max_concurrent_calls.max(1))
            .try_collect()
            .await?;
        Ok(AvailableTimes::merged(pieces))
    }

    /// Refuses a question of more than one call at once when the account's remaining calls
    /// are known not to hold what it would cost (see [`SchedulingProvider::afford`]); a
    /// question of one call meets the same refusal when it is made.
    async fn afford(
        &self,
        account: &CalendlyUserUri,
        asked: &[TimesAsked],
    ) -> Result<(), GatewayError> {
        if asked.len() > 1 {
            self.ports.scheduling.afford(account, asked).await?;
        }
        Ok(())
    }

    /// The part of `requested` the provider may be asked about: from now plus `start_lead`
    /// (nothing earlier can be booked, and the provider refuses a past start); `None` when the
    /// whole range lies before that.
    fn still_ahead(&self, requested: TimeRange) -> Option<TimeRange> {
        requested.not_before(self.earliest())
    }

    /// The earliest start that can still be booked: now plus `start_lead`.
    fn earliest(&self) -> DateTime<Utc> {
        self.ports.clock.now() + self.policy.start_lead
    }

    fn validated_range(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<TimeRange, GatewayError> {
        let range = TimeRange::new(start, end).ok_or(RangeError::EndNotAfterStart)?;
        if range.duration() > self.policy.max_range {
            return Err(RangeError::TooLong {
                max_days: self.policy.max_range.num_days(),
            }
            .into());
        }
        Ok(range)
    }

    async fn event_types_of(
        &self,
        connection: &CalendlyConnection,
    ) -> Result<Arc<[EventType]>, GatewayError> {
        Ok(self
            .ports
            .scheduling
            .event_types(
                connection.credential.access_token(),
                &connection.calendly_user.uri,
            )
            .await?)
    }

    async fn chosen_event_type(
        &self,
        connection: &CalendlyConnection,
        requested: Option<EventTypeUri>,
    ) -> Result<EventTypeUri, GatewayError> {
        let event_types = self.event_types_of(connection).await?;
        match requested {
            // The first one that can be booked: an inactive one has no available times.
            None => event_types
                .iter()
                .find(|event_type| event_type.active)
                .map(|first| first.uri.clone())
                .ok_or(GatewayError::NoEventTypes),
            Some(wanted) if event_types.iter().any(|e| e.uri == wanted) => Ok(wanted),
            Some(wanted) => Err(GatewayError::EventTypeNotFound(wanted)),
        }
    }
}

/// What a connection may ask of the provider, by the scopes it was granted.
impl CalendlyConnection {
    /// `Ok` unless the connection is known to lack `scope`: then the provider's refusal,
    /// without a call.
    pub fn require(&self, scope: Scope) -> Result<(), ProviderError> {
        match &self.scopes {
            Some(scopes) if !scopes.grants(scope) => Err(ProviderError::ScopeMissing {
                scope,
                details: serde_json::Value::Null,
            }),
            _ => Ok(()),
        }
    }

    /// Whether the connection may have `scope`: granted, or its scopes unknown.
    pub fn may(&self, scope: Scope) -> bool {
        self.require(scope).is_ok()
    }
}
