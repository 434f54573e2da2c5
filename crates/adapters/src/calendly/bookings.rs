//! Calendly's Scheduling API as the [`BookingProvider`]: `POST /invitees` books (limited apart
//! from every other call, see [`super::BOOKING_ENDPOINT`]), scheduled events are the bookings.

use async_trait::async_trait;
use domain::booking::{
    BookedInvitee, Booking, BookingForm, BookingId, BookingProvider, BookingRequest, BookingsQuery,
};
use domain::{CalendlyToken, CalendlyUserUri, EventType, ProviderError, Rejection};
use serde_json::{Value, json};
use tracing::instrument;

use super::booking_wire as wire;
use super::{BOOKING_ENDPOINT, CalendlyClient, Call, MAX_PAGES, PAGE_SIZE};

impl CalendlyClient {
    /// One scheduled event; one `account` does not host is not found.
    async fn event(
        &self,
        token: &CalendlyToken,
        account: &CalendlyUserUri,
        id: &BookingId,
    ) -> Result<Booking, ProviderError> {
        let call = Call {
            method: reqwest::Method::GET,
            endpoint: "/scheduled_events/{uuid}",
            path: Some(format!("/scheduled_events/{id}")),
            query: &[],
            body: None,
        };
        let (body, _) = self.call(token, Some(account), call).await?;
        match wire::scheduled_event(&body, account.as_str())? {
            (booking, true) => Ok(booking),
            (_, false) => Err(ProviderError::Rejected {
                reason: Rejection::NotFound,
                details: Value::Null,
            }),
        }
    }

    /// Every invitee of a scheduled event, all pages.
    async fn invitees(
        &self,
        token: &CalendlyToken,
        account: &CalendlyUserUri,
        id: &BookingId,
    ) -> Result<Vec<BookedInvitee>, ProviderError> {
        let mut invitees = Vec::new();
        let mut page_token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut query = vec![("count", PAGE_SIZE)];
            if let Some(page_token) = &page_token {
                query.push(("page_token", page_token));
            }
            let call = Call {
                method: reqwest::Method::GET,
                endpoint: "/scheduled_events/{uuid}/invitees",
                path: Some(format!("/scheduled_events/{id}/invitees")),
                query: &query,
                body: None,
            };
            let (body, _) = self.call(token, Some(account), call).await?;
            let (page, next) = wire::invitees_page(&body)?;
            invitees.extend(page);
            match next {
                Some(next) if Some(&next) != page_token.as_ref() => page_token = Some(next),
                _ => return Ok(invitees),
            }
        }
        Err(too_many_pages("invitees"))
    }
}

fn too_many_pages(what: &str) -> ProviderError {
    ProviderError::Unavailable {
        reason: format!("Calendly returned more than {MAX_PAGES} pages of {what}"),
    }
}

/// Calendly's 400 naming `start_time` for a booking: the time is not bookable.
fn taken(error: ProviderError) -> ProviderError {
    match error {
        ProviderError::Rejected {
            reason: Rejection::BadArgument,
            details,
        } if names_parameter(&details, "start_time") => ProviderError::Rejected {
            reason: Rejection::TimeUnavailable,
            details,
        },
        other => other,
    }
}

/// Whether Calendly's error body lists `parameter` among its details.
fn names_parameter(details: &Value, parameter: &str) -> bool {
    details["details"]
        .as_array()
        .is_some_and(|listed| listed.iter().any(|d| d["parameter"] == parameter))
}

/// Calendly's 403 for cancelling an event canceled already: a conflict.
fn canceled_already(error: ProviderError) -> ProviderError {
    match error {
        ProviderError::Rejected {
            reason: Rejection::Forbidden,
            details,
        } if details["message"]
            .as_str()
            .is_some_and(|m| m.to_ascii_lowercase().contains("already canceled")) =>
        {
            ProviderError::Rejected {
                reason: Rejection::Conflict,
                details,
            }
        }
        other => other,
    }
}

#[async_trait]
impl BookingProvider for CalendlyClient {
    fn form(&self, event_type: &EventType) -> Result<BookingForm, ProviderError> {
        wire::form(&event_type.json)
    }

    #[instrument(skip_all, fields(event_type = %request.event_type), err(Display))]
    async fn book(
        &self,
        token: &CalendlyToken,
        account: &CalendlyUserUri,
        request: &BookingRequest,
    ) -> Result<Booking, ProviderError> {
        let body = wire::invitee_body(request);
        let call = Call {
            method: reqwest::Method::POST,
            endpoint: BOOKING_ENDPOINT,
            path: None,
            query: &[],
            body: Some(&body),
        };
        let (answer, _) = self.call(token, Some(account), call).await.map_err(taken)?;
        // Booked: what follows only reads the booking, and its failure is an answer lost on
        // the way (the use case looks the booking up), never a refusal.
        let lost = |error: ProviderError| ProviderError::Unavailable {
            reason: format!("booked, but the booking could not be read: {error}"),
        };
        let (id, invitee) = wire::created_invitee(&answer).map_err(lost)?;
        let mut booking = self.event(token, account, &id).await.map_err(lost)?;
        booking.invitees = Some(vec![invitee]);
        Ok(booking)
    }

    #[instrument(skip_all, err(Display))]
    async fn bookings(
        &self,
        token: &CalendlyToken,
        account: &CalendlyUserUri,
        query: &BookingsQuery,
    ) -> Result<Vec<Booking>, ProviderError> {
        let start = super::wire::format_time(query.start);
        let end = super::wire::format_time(query.end);
        let mut bookings = Vec::new();
        let mut page_token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut asked = vec![
                ("user", account.as_str()),
                ("min_start_time", start.as_str()),
                ("max_start_time", end.as_str()),
                ("count", PAGE_SIZE),
                ("sort", "start_time:asc"),
            ];
            if let Some(status) = query.status {
                asked.push(("status", status.as_str()));
            }
            if let Some(email) = &query.invitee_email {
                asked.push(("invitee_email", email.as_str()));
            }
            if let Some(page_token) = &page_token {
                asked.push(("page_token", page_token));
            }
            let body = self
                .get(token, account, "/scheduled_events", &asked)
                .await?;
            let (page, next) = wire::scheduled_events_page(&body, account.as_str())?;
            bookings.extend(page);
            match next {
                Some(next) if Some(&next) != page_token.as_ref() => page_token = Some(next),
                _ => return Ok(bookings),
            }
        }
        Err(too_many_pages("scheduled events"))
    }

    #[instrument(skip_all, fields(booking = %id), err(Display))]
    async fn booking(
        &self,
        token: &CalendlyToken,
        account: &CalendlyUserUri,
        id: &BookingId,
    ) -> Result<Booking, ProviderError> {
        let mut booking = self.event(token, account, id).await?;
        booking.invitees = Some(self.invitees(token, account, id).await?);
        Ok(booking)
    }

    #[instrument(skip_all, fields(booking = %id), err(Display))]
    async fn cancel<'a>(
        &self,
        token: &CalendlyToken,
        account: &CalendlyUserUri,
        id: &BookingId,
        reason: Option<&'a str>,
    ) -> Result<(), ProviderError> {
        let body = reason.map_or_else(|| json!({}), |reason| json!({ "reason": reason }));
        let call = Call {
            method: reqwest::Method::POST,
            endpoint: "/scheduled_events/{uuid}/cancellation",
            path: Some(format!("/scheduled_events/{id}/cancellation")),
            query: &[],
            body: Some(&body),
        };
        self.call(token, Some(account), call)
            .await
            .map(|_| ())
            .map_err(canceled_already)
    }
}
