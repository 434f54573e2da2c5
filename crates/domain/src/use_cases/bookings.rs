//! Booking, listing and cancelling the user's bookings (the user is the host).
//!
//! A booking is checked before any call (the event type is the user's and active, the form
//! answered, the time among its available times), then one seat of the time is held where every
//! instance sees it, so that one request at a time books a one-seat time. An idempotency key
//! makes a retried booking answer what the first answered; a booking whose answer was lost is
//! looked up at the provider before anything is decided, so a retry never books twice.

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use futures::FutureExt as _;
use serde_json::json;
use tracing::instrument;

use super::service::{AvailabilityQuery, BookingPorts, SchedulingService};
use crate::booking::{
    Booking, BookingRequest, BookingStatus, BookingsQuery, Claim, IdempotencyKey, InviteeName,
    SlotHold,
};
use crate::error::{GatewayError, ProviderError, Rejection, RepositoryError};
use crate::model::{CalendlyConnection, UserId};
use crate::scope::Scope;

/// How long a seat of a time stays held once taken: past any booking's call, and past the
/// moment the booked time has left every instance's answers.
pub const HOLD_LIFETIME: TimeDelta = TimeDelta::minutes(5);

/// A booking made, or answered again for its idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Booked {
    pub booking: Booking,
    /// Answered before for the same key and body: nothing was booked this time.
    pub replayed: bool,
}

/// The user, their key and what they asked: one booking attempt.
struct Attempt<'a> {
    user_id: &'a UserId,
    /// The user's connection as the attempt began: its account is the host's.
    connection: Arc<CalendlyConnection>,
    key: Option<&'a IdempotencyKey>,
    request: &'a BookingRequest,
}

impl SchedulingService {
    pub(super) fn booking_ports(&self) -> Result<&BookingPorts, GatewayError> {
        self.bookings.as_ref().ok_or_else(|| {
            GatewayError::Repository(RepositoryError::Unexpected(
                "booking is not wired in".into(),
            ))
        })
    }

    /// Books `request` with the user as host (see the module's description).
    ///
    /// Errors: [`GatewayError::EventTypeNotFound`], [`GatewayError::EventTypeInactive`],
    /// [`GatewayError::InvalidBooking`], [`GatewayError::SlotUnavailable`],
    /// [`GatewayError::IdempotencyKeyReused`], [`GatewayError::RequestInProgress`], and the
    /// provider's and the store's.
    #[instrument(skip_all, fields(user_id = %user_id))]
    pub async fn book(
        &self,
        user_id: &UserId,
        key: Option<&IdempotencyKey>,
        request: &BookingRequest,
    ) -> Result<Booked, GatewayError> {
        let ports = self.booking_ports()?;
        if request.start_time <= self.ports.clock.now() {
            return Err(GatewayError::InvalidBooking(
                "start_time: the time has passed.".into(),
            ));
        }
        let connection = self.connection(user_id).await?;
        connection.require(Scope::ScheduledEventsWrite)?;
        connection.require(Scope::EventTypesRead)?;
        let event_types = self
            .with_renewal(Arc::clone(&connection), |connection| {
                async move { self.event_types_of(&connection).await }.boxed()
            })
            .await?;
        let event_type = event_types
            .iter()
            .find(|e| e.uri == request.event_type)
            .ok_or_else(|| GatewayError::EventTypeNotFound(request.event_type.clone()))?;
        if !event_type.active {
            return Err(GatewayError::EventTypeInactive(request.event_type.clone()));
        }
        ports
            .provider
            .form(event_type)?
            .check(request)
            .map_err(|e| GatewayError::InvalidBooking(e.to_string()))?;

        let attempt = Attempt {
            user_id,
            connection,
            key,
            request,
        };
        let after_doubt = match key {
            None => false,
            Some(key) => {
                let claim = ports
                    .keys
                    .claim(user_id, key, &fingerprint(request), self.ports.clock.now())
                    .await?;
                match claim {
                    Claim::Claimed { after_doubt } => after_doubt,
                    Claim::Running => return Err(GatewayError::RequestInProgress),
                    Claim::Reused => return Err(GatewayError::IdempotencyKeyReused),
                    Claim::Answered(booking) => {
                        return Ok(Booked {
                            booking: *booking,
                            replayed: true,
                        });
                    }
                }
            }
        };
        match self.book_claimed(ports, &attempt, after_doubt).await {
            Ok(booked) => Ok(booked),
            Err(Unsettled::InDoubt(error)) => Err(error),
            Err(Unsettled::Failed(error)) => {
                if let Some(key) = key {
                    ports.keys.forget(user_id, key).await.ok();
                }
                Err(error)
            }
        }
    }

    /// [`Self::book`] once its key, if any, is this request's.
    async fn book_claimed(
        &self,
        ports: &BookingPorts,
        attempt: &Attempt<'_>,
        after_doubt: bool,
    ) -> Result<Booked, Unsettled> {
        if after_doubt && let Some(booking) = self.made_before(ports, attempt).await? {
            return Ok(self.booked(ports, attempt, booking).await?);
        }
        let request = attempt.request;
        let seats = self.seats_left(attempt).await?;
        let now = self.ports.clock.now();
        let hold = ports
            .holds
            .hold(
                &request.event_type,
                request.start_time,
                seats,
                now,
                now + HOLD_LIFETIME,
            )
            .await
            .map_err(GatewayError::from)?
            .ok_or(GatewayError::SlotUnavailable)?;
        let made = self
            .with_renewal(Arc::clone(&attempt.connection), |connection| {
                async move {
                    Ok(ports
                        .provider
                        .book(
                            connection.credential.access_token(),
                            &connection.calendly_user.uri,
                            request,
                        )
                        .await?)
                }
                .boxed()
            })
            .await;
        match made {
            Ok(booking) => Ok(self.booked(ports, attempt, booking).await?),
            Err(
                error @ GatewayError::Provider(
                    ProviderError::Timeout | ProviderError::Unavailable { .. },
                ),
            ) => self.after_lost_answer(ports, attempt, &hold, error).await,
            Err(error) => {
                ports.holds.release(&hold).await.ok();
                Err(Unsettled::Failed(match error {
                    GatewayError::Provider(ProviderError::Rejected {
                        reason: Rejection::TimeUnavailable,
                        ..
                    }) => GatewayError::SlotUnavailable,
                    other => other,
                }))
            }
        }
    }

    /// The provider's booking of `attempt` when its answer was lost on the way: looked up, and
    /// answered when it was made. When it cannot be known, the key stays in doubt (its next
    /// claim looks first) and the seat held until its hold ends.
    async fn after_lost_answer(
        &self,
        ports: &BookingPorts,
        attempt: &Attempt<'_>,
        hold: &SlotHold,
        error: GatewayError,
    ) -> Result<Booked, Unsettled> {
        match self.made_before(ports, attempt).await {
            Ok(Some(booking)) => Ok(self.booked(ports, attempt, booking).await?),
            Ok(None) => {
                ports.holds.release(hold).await.ok();
                Err(Unsettled::Failed(error))
            }
            Err(lookup) => {
                tracing::warn!(error = %lookup, "whether a booking whose answer was lost was made is not known");
                match attempt.key {
                    Some(key) => {
                        ports.keys.doubt(attempt.user_id, key).await.ok();
                        Err(Unsettled::InDoubt(error))
                    }
                    None => Err(Unsettled::Failed(error)),
                }
            }
        }
    }

    /// A booking made: the host's times forgotten on every instance, the key answered.
    async fn booked(
        &self,
        ports: &BookingPorts,
        attempt: &Attempt<'_>,
        booking: Booking,
    ) -> Result<Booked, GatewayError> {
        self.ports
            .account_cache
            .forget_times(&attempt.connection.calendly_user.uri)
            .await;
        if let Some(key) = attempt.key
            && let Err(error) = ports.keys.answer(attempt.user_id, key, &booking).await
        {
            // The booking stands; a retry with the key looks it up.
            tracing::warn!(%error, "a booking's answer could not be kept for its idempotency key");
            ports.keys.doubt(attempt.user_id, key).await.ok();
        }
        tracing::info!(booking = %booking.id, "booked");
        Ok(Booked {
            booking,
            replayed: false,
        })
    }

    /// The booking of the invitee at the time asked, made by an earlier attempt, if any.
    async fn made_before(
        &self,
        ports: &BookingPorts,
        attempt: &Attempt<'_>,
    ) -> Result<Option<Booking>, GatewayError> {
        let request = attempt.request;
        let query = BookingsQuery {
            start: request.start_time,
            end: request.start_time + TimeDelta::seconds(1),
            status: Some(BookingStatus::Active),
            invitee_email: Some(request.invitee.email.clone()),
        };
        let found = self
            .with_renewal(Arc::clone(&attempt.connection), |connection| {
                let query = &query;
                async move {
                    let (token, account) = super::booked::reach(&connection);
                    let listed = ports.provider.bookings(token, account, query).await?;
                    let Some(made) = listed.into_iter().find(|b| {
                        b.start_time == request.start_time
                            && b.event_type.as_deref() == Some(request.event_type.as_str())
                    }) else {
                        return Ok(None);
                    };
                    Ok(Some(
                        ports.provider.booking(token, account, &made.id).await?,
                    ))
                }
                .boxed()
            })
            .await?;
        Ok(found)
    }

    /// How many seats the time asked has left: it must be one of the event type's available
    /// times (kept ones are fine while they live; the provider judges after).
    async fn seats_left(&self, attempt: &Attempt<'_>) -> Result<u32, GatewayError> {
        let request = attempt.request;
        let query = AvailabilityQuery {
            start: request.start_time,
            end: request.start_time + TimeDelta::seconds(1),
            event_type: Some(request.event_type.clone()),
        };
        let range = self.validated_range(query.start, query.end)?;
        let query = &query;
        let times = self
            .with_renewal(Arc::clone(&attempt.connection), |connection| {
                async move { self.available_between(&connection, query, range).await }.boxed()
            })
            .await?;
        let time = times
            .iter()
            .find(|t| t.start_time == request.start_time)
            .ok_or(GatewayError::SlotUnavailable)?;
        let seats = time.seats_left.unwrap_or(1).max(1);
        Ok(u32::try_from(seats).unwrap_or(u32::MAX))
    }
}

/// How a booking attempt that did not book ended.
enum Unsettled {
    /// Nothing was booked: the key is free again.
    Failed(GatewayError),
    /// Whether it booked is not known: the key stays in doubt, its next claim looks first.
    InDoubt(GatewayError),
}

impl From<GatewayError> for Unsettled {
    fn from(error: GatewayError) -> Self {
        Self::Failed(error)
    }
}

/// The request written out in one canonical text: the same body, the same text.
fn fingerprint(request: &BookingRequest) -> String {
    let name = match &request.invitee.name {
        InviteeName::Full(name) => json!({ "name": name }),
        InviteeName::Parts { first, last } => json!({ "first": first, "last": last }),
    };
    let tracking = request.tracking.as_ref().map(|t| {
        json!([
            t.utm_campaign,
            t.utm_source,
            t.utm_medium,
            t.utm_content,
            t.utm_term,
            t.salesforce_uuid
        ])
    });
    json!({
        "event_type": request.event_type.as_str(),
        "start_time": started(request.start_time),
        "name": name,
        "email": request.invitee.email.as_str(),
        "timezone": request.invitee.timezone.name(),
        "text_reminder_number": request.invitee.text_reminder_number,
        "location": request.location.as_ref().map(|l| json!([l.kind, l.location])),
        "answers": request.answers.iter().map(|a| json!([a.question, a.answer, a.position])).collect::<Vec<_>>(),
        "guests": request.guests.iter().map(|g| g.as_str()).collect::<Vec<_>>(),
        "tracking": tracking,
    })
    .to_string()
}

fn started(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}
