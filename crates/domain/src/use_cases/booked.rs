//! The user's bookings: listed, read one by one, and cancelled.

use std::sync::Arc;

use futures::FutureExt as _;
use tracing::instrument;

use super::service::SchedulingService;
use crate::booking::{Booking, BookingId, BookingStatus, BookingsQuery, MAX_REASON_CHARS};
use crate::error::{GatewayError, ProviderError, Rejection};
use crate::model::{CalendlyConnection, UserId};
use crate::scope::Scope;

impl SchedulingService {
    /// The user's bookings that `query` asks for, sorted by start.
    #[instrument(skip_all, fields(user_id = %user_id))]
    pub async fn bookings(
        &self,
        user_id: &UserId,
        query: BookingsQuery,
    ) -> Result<Vec<Booking>, GatewayError> {
        let ports = self.booking_ports()?;
        self.validated_range(query.start, query.end)?;
        let connection = self.connection(user_id).await?;
        connection.require(Scope::ScheduledEventsRead)?;
        let query = &query;
        let mut listed = self
            .with_renewal(connection, |connection| {
                async move {
                    let (token, account) = reach(&connection);
                    Ok(ports.provider.bookings(token, account, query).await?)
                }
                .boxed()
            })
            .await?;
        listed.sort_by_key(|booking| booking.start_time);
        Ok(listed)
    }

    /// One of the user's bookings, with its invitees.
    #[instrument(skip_all, fields(user_id = %user_id))]
    pub async fn booking(&self, user_id: &UserId, id: &BookingId) -> Result<Booking, GatewayError> {
        let connection = self.connection(user_id).await?;
        self.booking_of(connection, id).await
    }

    /// One booking of `connection`'s account, with its invitees.
    async fn booking_of(
        &self,
        connection: Arc<CalendlyConnection>,
        id: &BookingId,
    ) -> Result<Booking, GatewayError> {
        let ports = self.booking_ports()?;
        connection.require(Scope::ScheduledEventsRead)?;
        self.with_renewal(connection, |connection| {
            async move {
                let (token, account) = reach(&connection);
                ports
                    .provider
                    .booking(token, account, id)
                    .await
                    .map_err(not_found_as_none)
            }
            .boxed()
        })
        .await
    }

    /// Cancels one of the user's bookings: the booking, canceled. The host's times are
    /// forgotten on every instance and the time's seats let go (bookable again).
    ///
    /// Errors: [`GatewayError::BookingNotFound`], [`GatewayError::BookingAlreadyCanceled`],
    /// [`GatewayError::InvalidBooking`] (a reason over [`MAX_REASON_CHARS`]), and the
    /// provider's and the store's.
    #[instrument(skip_all, fields(user_id = %user_id))]
    pub async fn cancel_booking(
        &self,
        user_id: &UserId,
        id: &BookingId,
        reason: Option<&str>,
    ) -> Result<Booking, GatewayError> {
        if reason.is_some_and(|r| r.chars().count() > MAX_REASON_CHARS) {
            return Err(GatewayError::InvalidBooking(format!(
                "reason: at most {MAX_REASON_CHARS} characters."
            )));
        }
        let ports = self.booking_ports()?;
        let connection = self.connection(user_id).await?;
        connection.require(Scope::ScheduledEventsWrite)?;
        let mut booking = self.booking_of(Arc::clone(&connection), id).await?;
        if booking.status == BookingStatus::Canceled {
            return Err(GatewayError::BookingAlreadyCanceled);
        }
        let account = connection.calendly_user.uri.clone();
        self.with_renewal(connection, |connection| {
            async move {
                let (token, account) = reach(&connection);
                ports
                    .provider
                    .cancel(token, account, id, reason)
                    .await
                    .map_err(|error| match error {
                        ProviderError::Rejected {
                            reason: Rejection::Conflict,
                            ..
                        } => GatewayError::BookingAlreadyCanceled,
                        other => not_found_as_none(other),
                    })
            }
            .boxed()
        })
        .await?;
        self.ports.account_cache.forget_times(&account).await;
        if let Ok(event_type) =
            crate::model::EventTypeUri::parse(booking.event_type.clone().unwrap_or_default())
        {
            ports
                .holds
                .release_all(&event_type, booking.start_time)
                .await
                .ok();
        }
        booking.status = BookingStatus::Canceled;
        for invitee in booking.invitees.iter_mut().flatten() {
            invitee.status = BookingStatus::Canceled;
        }
        tracing::info!(booking = %booking.id, "booking canceled");
        Ok(booking)
    }
}

/// The token and account a connection calls with.
pub(super) fn reach(
    connection: &CalendlyConnection,
) -> (&crate::model::CalendlyToken, &crate::model::CalendlyUserUri) {
    (
        connection.credential.access_token(),
        &connection.calendly_user.uri,
    )
}

/// The provider's "not found" or "forbidden" (another host's) for a booking: not the user's.
fn not_found_as_none(error: ProviderError) -> GatewayError {
    match error {
        ProviderError::Rejected {
            reason: Rejection::NotFound | Rejection::Forbidden,
            ..
        } => GatewayError::BookingNotFound,
        other => GatewayError::Provider(other),
    }
}
