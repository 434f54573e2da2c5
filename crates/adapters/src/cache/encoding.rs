//! How answers are written into the shared tier and read back: the tier's own format, not the
//! provider's. Each item is a line of what the gateway reads of it (its typed fields) and its
//! object's length, then the object as the provider wrote it:
//!
//! - an event type: `<json length> <minutes or -> <0|1 active> <uri>`;
//! - an available time: `<json length> <start, ns> <seats or -> <booking URL, or nothing>`;
//! - a busy time: `<json length> <start, ns> <end, ns>`.
//!
//! What does not read back whole is no answer at all (the tier then counts as a miss).

use std::io::Write as _;
use std::sync::Arc;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use domain::{AvailableTime, BusyTime, EventType, EventTypeUri, RawJson};

/// Answers the tier can hold.
pub(super) trait Shareable: Sized {
    /// Appends the items to `out`.
    fn write(&self, out: &mut Vec<u8>);
    /// The items written by [`Self::write`] in `body`.
    fn read(body: &Bytes) -> Option<Self>;
}

impl Shareable for Arc<[EventType]> {
    fn write(&self, out: &mut Vec<u8>) {
        for event_type in self.iter() {
            let minutes = event_type
                .duration_minutes
                .map_or_else(|| "-".to_owned(), |minutes| minutes.to_string());
            let line = format!(
                "{} {minutes} {} {}",
                event_type.json.as_bytes().len(),
                u8::from(event_type.active),
                event_type.uri.as_str()
            );
            item(out, &line, &event_type.json);
        }
    }

    fn read(body: &Bytes) -> Option<Self> {
        items(body, |line, json| {
            let mut fields = line.splitn(3, ' ');
            let minutes = fields.next()?;
            let active = fields.next()?;
            Some(EventType {
                duration_minutes: match minutes {
                    "-" => None,
                    minutes => Some(minutes.parse().ok()?),
                },
                active: active == "1",
                uri: EventTypeUri::parse(fields.next()?).ok()?,
                json,
            })
        })
        .map(Into::into)
    }
}

impl Shareable for Vec<AvailableTime> {
    fn write(&self, out: &mut Vec<u8>) {
        for time in self {
            let seats = time
                .seats_left
                .map_or_else(|| "-".to_owned(), |seats| seats.to_string());
            let line = format!(
                "{} {} {seats} {}",
                time.json.as_bytes().len(),
                nanos(time.start_time),
                // A URL with a line break in it (never a real one) would break the line.
                time.booking_url
                    .as_deref()
                    .filter(|url| !url.chars().any(char::is_control))
                    .unwrap_or_default()
            );
            item(out, &line, &time.json);
        }
    }

    fn read(body: &Bytes) -> Option<Self> {
        items(body, |line, json| {
            let mut fields = line.splitn(3, ' ');
            let start_time = time(fields.next()?)?;
            let seats_left = match fields.next()? {
                "-" => None,
                seats => Some(seats.parse().ok()?),
            };
            let booking_url = fields
                .next()
                .filter(|url| !url.is_empty())
                .map(str::to_owned);
            Some(AvailableTime {
                start_time,
                seats_left,
                booking_url,
                json,
            })
        })
    }
}

impl Shareable for Vec<BusyTime> {
    fn write(&self, out: &mut Vec<u8>) {
        for time in self {
            let line = format!(
                "{} {} {}",
                time.json.as_bytes().len(),
                nanos(time.start_time),
                nanos(time.end_time)
            );
            item(out, &line, &time.json);
        }
    }

    fn read(body: &Bytes) -> Option<Self> {
        items(body, |line, json| {
            let (start, end) = line.split_once(' ')?;
            Some(BusyTime {
                start_time: time(start)?,
                end_time: time(end)?,
                json,
            })
        })
    }
}

fn nanos(time: DateTime<Utc>) -> i64 {
    time.timestamp_nanos_opt().unwrap_or(i64::MAX)
}

fn time(text: &str) -> Option<DateTime<Utc>> {
    Some(DateTime::from_timestamp_nanos(text.parse().ok()?))
}

/// Writes one item: its line (which starts with its JSON's length), then its JSON.
fn item(out: &mut Vec<u8>, line: &str, json: &RawJson) {
    // Writing into a Vec cannot fail.
    let _ = writeln!(out, "{line}");
    out.extend_from_slice(json.as_bytes());
}

/// Every item of `body`, each read by `read` from its line (after the length) and its JSON (a
/// slice of `body`, not copied); `None` when any does not read back.
fn items<T>(body: &Bytes, read: impl Fn(&str, RawJson) -> Option<T>) -> Option<Vec<T>> {
    let mut items = Vec::new();
    let mut at = 0;
    while at < body.len() {
        let line_end = at + memchr::memchr(b'\n', &body[at..])?;
        let line = std::str::from_utf8(&body[at..line_end]).ok()?;
        let (length, rest) = line.split_once(' ')?;
        let json_end = (line_end + 1).checked_add(length.parse::<usize>().ok()?)?;
        if json_end > body.len() {
            return None;
        }
        let json = RawJson::parsed(body.slice(line_end + 1..json_end));
        items.push(read(rest, json)?);
        at = json_end;
    }
    Some(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).expect("time").to_utc()
    }

    fn written<T: Shareable>(items: &T) -> Bytes {
        let mut out = Vec::new();
        items.write(&mut out);
        Bytes::from(out)
    }

    #[test]
    fn every_kind_reads_back_as_it_was_written() {
        let times = vec![
            AvailableTime {
                start_time: at("2030-01-07T09:30:00.5Z"),
                seats_left: Some(2),
                booking_url: Some("https://book.example/a b?x=1".into()),
                json: RawJson::parse("{\"a\":\n1}").expect("json"),
            },
            AvailableTime {
                start_time: at("2030-01-07T10:00:00Z"),
                seats_left: None,
                booking_url: None,
                json: RawJson::parse("{}").expect("json"),
            },
        ];
        let read = Vec::<AvailableTime>::read(&written(&times)).expect("read");
        assert_eq!(read.len(), 2);
        for (read, time) in read.iter().zip(&times) {
            assert_eq!(read.start_time, time.start_time);
            assert_eq!(read.seats_left, time.seats_left);
            assert_eq!(read.booking_url, time.booking_url);
            assert_eq!(read.json.as_bytes(), time.json.as_bytes());
        }
        let busy = vec![BusyTime {
            start_time: at("2030-01-07T12:00:00Z"),
            end_time: at("2030-01-07T12:30:00Z"),
            json: RawJson::parse(r#"{"type":"calendly"}"#).expect("json"),
        }];
        assert_eq!(Vec::<BusyTime>::read(&written(&busy)), Some(busy));
        let types: Arc<[EventType]> = vec![EventType {
            uri: EventTypeUri::parse("https://api.example/event_types/A 1").expect("uri"),
            duration_minutes: Some(30),
            active: false,
            json: RawJson::parse(r#"{"uri":"x"}"#).expect("json"),
        }]
        .into();
        let read = Arc::<[EventType]>::read(&written(&types)).expect("read");
        assert_eq!(read[0].uri, types[0].uri);
        assert_eq!(read[0].duration_minutes, Some(30));
        assert!(!read[0].active);
        assert_eq!(read[0].json.as_bytes(), types[0].json.as_bytes());
        assert_eq!(Vec::<BusyTime>::read(&Bytes::new()), Some(Vec::new()));
    }

    #[test]
    fn what_does_not_read_back_whole_is_nothing() {
        let mut body = written(&vec![BusyTime {
            start_time: at("2030-01-07T12:00:00Z"),
            end_time: at("2030-01-07T12:30:00Z"),
            json: RawJson::parse("{}").expect("json"),
        }])
        .to_vec();
        body.pop();
        assert_eq!(Vec::<BusyTime>::read(&Bytes::from(body)), None, "cut short");
        assert_eq!(
            Vec::<BusyTime>::read(&Bytes::from_static(b"{\"collection\":[]}")),
            None,
            "another format"
        );
    }
}
