//! The slots a booking page draws: every bookable time of several event types, with its end,
//! in one time zone, grouped by local day.

use std::collections::HashSet;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use chrono_tz::Tz;
use futures::{FutureExt as _, StreamExt as _, TryStreamExt as _, stream};
use tracing::instrument;

use super::service::SchedulingService;
use crate::available::{AvailableTime, AvailableTimes};
use crate::error::{GatewayError, ProviderError};
use crate::model::{CalendlyConnection, EventType, EventTypeUri, UserId};
use crate::ports::TimesAsked;

/// A slots question: between two times, for the event types asked for (none: every active
/// one), in a time zone (none: the user's on Calendly).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotsQuery {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub event_types: Vec<EventTypeUri>,
    pub timezone: Option<Tz>,
}

/// One bookable slot, in the answer's time zone.
#[derive(Debug, Clone, PartialEq)]
pub struct Slot {
    pub start: DateTime<Tz>,
    pub end: DateTime<Tz>,
    pub event_type: EventTypeUri,
    /// How many more invitees may book it, when the provider said.
    pub seats_left: Option<u64>,
    /// Where a visitor books it on the provider's own page, when the provider said.
    pub booking_url: Option<String>,
}

/// The slots of one local day.
#[derive(Debug, Clone, PartialEq)]
pub struct SlotDay {
    pub date: NaiveDate,
    pub slots: Vec<Slot>,
}

/// The answer: the time zone, and the days that have slots, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Slots {
    pub timezone: Tz,
    pub days: Vec<SlotDay>,
}

impl SchedulingService {
    /// Every slot of the event types asked for between `query.start` and `query.end`, merged,
    /// in `query.timezone` (default: the user's Calendly time zone), grouped by local date,
    /// sorted by start then event type, each once.
    ///
    /// Errors beyond check-availability's: [`GatewayError::TooManyEventTypes`] (more asked
    /// for, or none asked and more active, than `max_event_types`), an event type the provider
    /// gave no duration for is [`ProviderError::Unavailable`].
    #[instrument(level = "debug", skip_all, fields(user_id = %user_id))]
    pub async fn slots(&self, user_id: &UserId, query: SlotsQuery) -> Result<Slots, GatewayError> {
        let requested = self.validated_range(query.start, query.end)?;
        let mut asked: Vec<EventTypeUri> = Vec::new();
        for uri in &query.event_types {
            if !asked.contains(uri) {
                asked.push(uri.clone());
            }
        }
        if asked.len() > self.policy.max_event_types {
            return Err(GatewayError::TooManyEventTypes {
                max: self.policy.max_event_types,
            });
        }
        let connection = self.connection(user_id).await?;
        connection.require(crate::scope::Scope::EventTypesRead)?;
        let timezone = query.timezone.unwrap_or_else(|| users_zone(&connection));
        let asked = &asked;
        self.with_renewal(connection, |connection| {
            async move {
                let chosen = self.chosen_for_slots(&connection, asked).await?;
                let Some(range) = self.still_ahead(requested) else {
                    return Ok(Slots {
                        timezone,
                        days: Vec::new(),
                    });
                };
                let token = connection.credential.access_token();
                let account = &connection.calendly_user.uri;
                let chosen = &chosen;
                let calls: Vec<(usize, crate::time_range::TimeRange)> = (0..chosen.len())
                    .flat_map(|index| {
                        range
                            .split(self.policy.max_call_span)
                            .into_iter()
                            .map(move |piece| (index, piece))
                    })
                    .collect();
                let asked: Vec<TimesAsked> = calls
                    .iter()
                    .map(|(index, piece)| TimesAsked {
                        event_type: Some(chosen[*index].0.clone()),
                        range: *piece,
                    })
                    .collect();
                self.afford(account, &asked).await?;
                // Every call of the request shares the one concurrency limit.
                let pieces: Vec<(usize, AvailableTimes)> = stream::iter(calls)
                    .map(|(index, piece)| {
                        self.ports
                            .scheduling
                            .available_times(token, account, &chosen[index].0, piece)
                            .map(move |times| times.map(|times| (index, times)))
                    })
                    .buffered(self.policy.max_concurrent_calls.max(1))
                    .try_collect()
                    .await?;
                Ok(grouped(timezone, chosen, pieces))
            }
            .boxed()
        })
        .await
    }

    /// The event types to answer for, each with its duration: those asked for (each must be
    /// the user's), or every active one.
    async fn chosen_for_slots(
        &self,
        connection: &CalendlyConnection,
        asked: &[EventTypeUri],
    ) -> Result<Vec<(EventTypeUri, TimeDelta)>, GatewayError> {
        let event_types = self.event_types_of(connection).await?;
        let chosen: Vec<&EventType> = if asked.is_empty() {
            let active: Vec<&EventType> = event_types.iter().filter(|e| e.active).collect();
            if active.len() > self.policy.max_event_types {
                return Err(GatewayError::TooManyEventTypes {
                    max: self.policy.max_event_types,
                });
            }
            active
        } else {
            asked
                .iter()
                .map(|uri| {
                    event_types
                        .iter()
                        .find(|e| e.uri == *uri)
                        .ok_or_else(|| GatewayError::EventTypeNotFound(uri.clone()))
                })
                .collect::<Result<_, _>>()?
        };
        if chosen.is_empty() {
            return Err(GatewayError::NoEventTypes);
        }
        chosen
            .into_iter()
            .map(|event_type| match event_type.duration_minutes {
                Some(minutes) => Ok((
                    event_type.uri.clone(),
                    TimeDelta::minutes(i64::from(minutes)),
                )),
                None => Err(ProviderError::Unavailable {
                    reason: format!("Calendly gave event type {} no duration", event_type.uri),
                }
                .into()),
            })
            .collect()
    }
}

/// The user's time zone on Calendly (a space read as `_`: Calendly's own example writes
/// `America/New York`); UTC (logged) when it is not an IANA name.
fn users_zone(connection: &CalendlyConnection) -> Tz {
    connection
        .calendly_user
        .timezone
        .replace(' ', "_")
        .parse::<Tz>()
        .unwrap_or_else(|_| {
            tracing::warn!(timezone = %connection.calendly_user.timezone, "the user's Calendly time zone is not an IANA name; slots are in UTC");
            Tz::UTC
        })
}

/// The pieces' times as slots in `timezone`, sorted by start then event type, each once,
/// grouped by local date.
fn grouped(
    timezone: Tz,
    chosen: &[(EventTypeUri, TimeDelta)],
    pieces: Vec<(usize, AvailableTimes)>,
) -> Slots {
    let mut seen = HashSet::new();
    let mut slots: Vec<(DateTime<Utc>, usize, &AvailableTime)> = pieces
        .iter()
        .flat_map(|(index, times)| {
            times
                .iter()
                .map(move |time| (time.start_time, *index, time))
        })
        .filter(|(start, index, _)| seen.insert((*start, *index)))
        .collect();
    slots.sort_by(|a, b| (a.0, chosen[a.1].0.as_str()).cmp(&(b.0, chosen[b.1].0.as_str())));
    let mut days: Vec<SlotDay> = Vec::new();
    for (start, index, time) in slots {
        let (event_type, duration) = &chosen[index];
        let start = start.with_timezone(&timezone);
        let slot = Slot {
            end: start + *duration,
            start,
            event_type: event_type.clone(),
            seats_left: time.seats_left,
            booking_url: time.booking_url.clone(),
        };
        let date = slot.start.date_naive();
        match days.last_mut() {
            Some(day) if day.date == date => day.slots.push(slot),
            _ => days.push(SlotDay {
                date,
                slots: vec![slot],
            }),
        }
    }
    Slots { timezone, days }
}
