//! Calendly's JSON, read only as far as the gateway needs: the objects themselves are kept
//! as Calendly wrote them.

use std::borrow::Cow;

use super::flat::{self, Written};
use bytes::Bytes;
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use domain::{
    AvailableTime, BusyTime, CalendlyUser, CalendlyUserUri, EventType, EventTypeUri, ProviderError,
    RawJson,
};
use serde::Deserialize;
use serde_json::value::RawValue;

/// Calendly's answer of one object: `{"resource": …}`.
#[derive(Deserialize)]
pub(super) struct Resource<T> {
    pub resource: T,
}

#[derive(Deserialize)]
struct User {
    uri: String,
    name: String,
    email: String,
    scheduling_url: String,
    timezone: String,
    #[serde(default)]
    current_organization: Option<String>,
}

#[derive(Deserialize)]
struct Collection<'a> {
    #[serde(borrow)]
    collection: Vec<&'a RawValue>,
    #[serde(default)]
    pagination: Option<Pagination>,
}

#[derive(Deserialize)]
pub(super) struct Pagination {
    #[serde(default)]
    pub next_page_token: Option<String>,
}

#[derive(Deserialize)]
struct EventTypeFields<'a> {
    #[serde(borrow)]
    uri: Cow<'a, str>,
    #[serde(default)]
    duration: Option<serde_json::Value>,
    #[serde(default)]
    active: Option<serde_json::Value>,
}

/// What the gateway reads of an available time.
#[derive(Deserialize)]
struct SlotFields<'a> {
    #[serde(borrow)]
    start_time: Cow<'a, str>,
    #[serde(default)]
    invitees_remaining: Option<serde_json::Value>,
    #[serde(default)]
    scheduling_url: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct Interval<'a> {
    #[serde(borrow)]
    start_time: Cow<'a, str>,
    #[serde(borrow)]
    end_time: Cow<'a, str>,
}

/// One page of `GET /event_types`.
pub(crate) struct EventTypesPage {
    pub event_types: Vec<EventType>,
    pub next_page_token: Option<String>,
}

pub(super) fn malformed(what: &str, error: impl std::fmt::Display) -> ProviderError {
    ProviderError::Unavailable {
        reason: format!("Calendly's {what} is not in its documented format: {error}"),
    }
}

/// Times as Calendly writes them: UTC, microseconds, `Z`.
pub(super) fn format_time(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Micros, true)
}

pub(super) fn current_user(body: &[u8]) -> Result<CalendlyUser, ProviderError> {
    let user = serde_json::from_slice::<Resource<User>>(body)
        .map_err(|e| malformed("user", e))?
        .resource;
    Ok(CalendlyUser {
        uri: CalendlyUserUri::parse(user.uri).map_err(|e| malformed("user", e))?,
        name: user.name,
        email: user.email,
        scheduling_url: user.scheduling_url,
        timezone: user.timezone,
        organization: user.current_organization,
    })
}

/// `part`, a value that serde borrowed from `body`, as a shared slice of it: no copy.
fn kept(body: &Bytes, part: &RawValue) -> RawJson {
    RawJson::parsed(body.slice_ref(part.get().as_bytes()))
}

pub(crate) fn event_types_page(body: &Bytes) -> Result<EventTypesPage, ProviderError> {
    let page: Collection<'_> =
        serde_json::from_slice(body).map_err(|e| malformed("event type list", e))?;
    let event_types = page
        .collection
        .into_iter()
        .map(|raw| {
            let EventTypeFields {
                uri,
                duration,
                active,
            } = serde_json::from_str(raw.get()).map_err(|e| malformed("event type", e))?;
            Ok(EventType {
                uri: EventTypeUri::parse(uri).map_err(|e| malformed("event type", e))?,
                // Read leniently: only slots need them, and they say so when one is missing.
                duration_minutes: duration
                    .as_ref()
                    .and_then(serde_json::Value::as_u64)
                    .and_then(|minutes| u32::try_from(minutes).ok())
                    .filter(|minutes| *minutes > 0),
                active: active.as_ref().and_then(serde_json::Value::as_bool) != Some(false),
                json: kept(body, raw),
            })
        })
        .collect::<Result<_, ProviderError>>()?;
    Ok(EventTypesPage {
        event_types,
        next_page_token: page
            .pagination
            .and_then(|p| p.next_page_token)
            .filter(|token| !token.is_empty()),
    })
}

pub(crate) fn available_times(body: &Bytes) -> Result<Vec<AvailableTime>, ProviderError> {
    match plain_available_times(body) {
        Some(times) => Ok(times),
        None => parsed_available_times(body),
    }
}

/// The available times of any answer, each object read by serde unless it is flat.
fn parsed_available_times(body: &Bytes) -> Result<Vec<AvailableTime>, ProviderError> {
    let mut day = LastDay::default();
    timed(body, "available time", |raw| {
        let object = raw.get();
        let fields = match flat::fields(object, flat::AVAILABLE_TIME_KEYS) {
            Some([Written::Text(start), seats, url]) => SlotFields {
                start_time: Cow::Borrowed(start),
                invitees_remaining: match seats {
                    Written::Bare(number) => number.parse().ok().map(serde_json::Value::Number),
                    _ => None,
                },
                scheduling_url: match url {
                    Written::Text(url) => Some(serde_json::Value::String(url.to_owned())),
                    _ => None,
                },
            },
            _ => serde_json::from_str(object).map_err(|e| malformed("available time", e))?,
        };
        Ok(AvailableTime {
            start_time: time(&fields.start_time, "available time's start_time", &mut day)?,
            // Read leniently: only slots show them, and without them when they are odd.
            seats_left: fields
                .invitees_remaining
                .as_ref()
                .and_then(serde_json::Value::as_u64),
            booking_url: match fields.scheduling_url {
                Some(serde_json::Value::String(url)) => Some(url),
                _ => None,
            },
            json: kept(body, raw),
        })
    })
}

/// Calendly's usual answer, read in one pass: `{"collection":[…]}` of flat objects written
/// plainly, each with its start written as a string. `None` for anything else, which serde
/// reads.
fn plain_available_times(body: &Bytes) -> Option<Vec<AvailableTime>> {
    let text = std::str::from_utf8(body).ok()?;
    let mut day = LastDay::default();
    flat::collection(text, flat::AVAILABLE_TIME_KEYS)?
        .into_iter()
        .map(|(place, [start, seats, url])| {
            let Written::Text(start) = start else {
                return None;
            };
            Some(AvailableTime {
                start_time: time(start, "", &mut day).ok()?,
                seats_left: match seats {
                    Written::Bare(number) => number.parse().ok(),
                    _ => None,
                },
                booking_url: match url {
                    Written::Text(url) => Some(url.to_owned()),
                    _ => None,
                },
                json: RawJson::parsed(body.slice(place)),
            })
        })
        .collect()
}

pub(crate) fn busy_times(body: &Bytes) -> Result<Vec<BusyTime>, ProviderError> {
    let mut day = LastDay::default();
    timed(body, "busy time", |raw| {
        let Interval {
            start_time,
            end_time,
        } = serde_json::from_str(raw.get()).map_err(|e| malformed("busy time", e))?;
        Ok(BusyTime {
            start_time: time(&start_time, "busy time's start_time", &mut day)?,
            end_time: time(&end_time, "busy time's end_time", &mut day)?,
            json: kept(body, raw),
        })
    })
}

/// A time as Calendly writes it (its date taken from `day` when it is the same), or as RFC 3339
/// allows.
fn time(text: &str, what: &str, day: &mut LastDay) -> Result<DateTime<Utc>, ProviderError> {
    if let Some(time) = calendly_time(text, day) {
        return Ok(time);
    }
    Ok(DateTime::parse_from_rfc3339(text)
        .map_err(|e| malformed(what, e))?
        .to_utc())
}

/// The date of the time read last, as written and as read: the times of one answer fall on a
/// few days, each of whose date is then read once.
#[derive(Default)]
struct LastDay(Option<([u8; 10], NaiveDate)>);

/// A time as Calendly writes it (`2030-01-02T09:00:00.000000Z`: UTC, `T`, `Z`, any digits of a
/// second's fraction) read digit by digit, its date taken from `day` when it is the same;
/// `None` for any other writing, which chrono reads.
fn calendly_time(text: &str, day: &mut LastDay) -> Option<DateTime<Utc>> {
    let bytes = text.as_bytes();
    let number = |from: usize, digits: usize| -> Option<u32> {
        bytes
            .get(from..from + digits)?
            .iter()
            .try_fold(0u32, |value, byte| {
                byte.is_ascii_digit()
                    .then(|| value * 10 + u32::from(byte - b'0'))
            })
    };
    let separators = [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':')];
    if separators
        .iter()
        .any(|(at, byte)| bytes.get(*at) != Some(byte))
        || bytes.last() != Some(&b'Z')
    {
        return None;
    }
    let nanos = match bytes.get(19..bytes.len() - 1)? {
        [] => 0,
        [b'.', fraction @ ..] if (1..=9).contains(&fraction.len()) => {
            let value = number(20, fraction.len())?;
            value * 10u32.pow(u32::try_from(9 - fraction.len()).ok()?)
        }
        _ => return None,
    };
    let written: [u8; 10] = bytes.get(..10)?.try_into().ok()?;
    let date = match day.0 {
        Some((last, date)) if last == written => date,
        _ => {
            let date = NaiveDate::from_ymd_opt(
                i32::try_from(number(0, 4)?).ok()?,
                number(5, 2)?,
                number(8, 2)?,
            )?;
            day.0 = Some((written, date));
            date
        }
    };
    Some(
        date.and_hms_nano_opt(number(11, 2)?, number(14, 2)?, number(17, 2)?, nanos)?
            .and_utc(),
    )
}

/// A collection of objects, each read by `read` and kept as written.
fn timed<T>(
    body: &Bytes,
    what: &str,
    read: impl FnMut(&RawValue) -> Result<T, ProviderError>,
) -> Result<Vec<T>, ProviderError> {
    let list: Collection<'_> =
        serde_json::from_slice(body).map_err(|e| malformed(&format!("{what} list"), e))?;
    list.collection.into_iter().map(read).collect()
}

/// A collection of objects, each kept as written.
pub(super) fn objects(body: &Bytes, what: &str) -> Result<Vec<RawJson>, ProviderError> {
    let list: Collection<'_> =
        serde_json::from_slice(body).map_err(|e| malformed(&format!("{what} list"), e))?;
    list.collection
        .into_iter()
        .map(|raw| {
            if raw.get().starts_with('{') {
                Ok(kept(body, raw))
            } else {
                Err(malformed(what, "not an object"))
            }
        })
        .collect()
}

#[cfg(test)]
#[path = "wire_tests.rs"]
mod tests;
