//! A slot's skeleton: its JSON and booking URL with each writing of its own start time
//! replaced by a marker, written back at any start (see [`super::compact`]).

use bytes::BufMut;
use chrono::{DateTime, Datelike, Timelike, Utc};
use domain::AvailableTime;

/// Starts a marker; JSON text never holds this byte raw.
const MARKER: u8 = 0x01;

/// The writings of a time that are replaced, longest first so that a shorter one never
/// matches inside a longer: Calendly's own (`2030-01-02T09:00:00.000000Z`), milliseconds,
/// whole seconds, the date and the month (the last two in its scheduling URLs).
pub(super) const FORMS: usize = 5;

/// What slots have in common: the JSON, the booking URL (each with its own start replaced by
/// markers), and the seats left.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) struct Skeleton {
    pub(super) json: Box<[u8]>,
    pub(super) url: Option<Box<[u8]>>,
    pub(super) seats: Option<u64>,
}

impl Skeleton {
    /// Whether this skeleton, written at `time`'s start, is `time` byte for byte.
    pub(super) fn writes(&self, time: &AvailableTime) -> bool {
        let written_as = |skeleton: &[u8], text: &[u8]| {
            let mut written = Vec::with_capacity(text.len());
            expand(&mut written, skeleton, time.start_time);
            written == text
        };
        self.seats == time.seats_left
            && written_as(&self.json, time.json.as_bytes())
            && match (&self.url, &time.booking_url) {
                (None, None) => true,
                (Some(url), Some(booking_url)) => written_as(url, booking_url.as_bytes()),
                _ => false,
            }
    }
}

/// `json` with each writing of `start` replaced by a marker and the form's index.
pub(super) fn skeleton(json: &[u8], start: DateTime<Utc>) -> Box<[u8]> {
    let mut text = json.to_vec();
    let mut written = Vec::with_capacity(32);
    for form in 0..FORMS {
        written.clear();
        if write_form(&mut written, form, start) {
            text = replaced(&text, &written, form);
        }
    }
    text.into()
}

fn replaced(text: &[u8], needle: &[u8], form: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = find(rest, needle) {
        out.extend_from_slice(&rest[..at]);
        out.push(MARKER);
        out.push(b'0' + u8::try_from(form).unwrap_or(0));
        rest = &rest[at + needle.len()..];
    }
    out.extend_from_slice(rest);
    out
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return None;
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Writes `skeleton` into `out` with each marker replaced by `start` in the marked form.
pub(super) fn expand(out: &mut impl BufMut, skeleton: &[u8], start: DateTime<Utc>) {
    let mut rest = skeleton;
    while let Some(at) = rest.iter().position(|b| *b == MARKER) {
        out.put_slice(&rest[..at]);
        let form = rest
            .get(at + 1)
            .map_or(0, |code| usize::from(code.wrapping_sub(b'0')));
        write_form(out, form, start);
        rest = rest.get(at + 2..).unwrap_or_default();
    }
    out.put_slice(rest);
}

/// Writes `time` in `form` (see [`FORMS`]); `false`, writing nothing, for a year outside
/// 0–9999 or an unknown form.
pub(super) fn write_form(out: &mut impl BufMut, form: usize, time: DateTime<Utc>) -> bool {
    let year = time.year();
    if !(0..=9999).contains(&year) || form >= FORMS {
        return false;
    }
    digits(out, year.unsigned_abs(), 4);
    put(out, b'-', time.month(), 2);
    if form == 4 {
        return true;
    }
    put(out, b'-', time.day(), 2);
    if form == 3 {
        return true;
    }
    put(out, b'T', time.hour(), 2);
    put(out, b':', time.minute(), 2);
    put(out, b':', time.second(), 2);
    let micros = time.timestamp_subsec_micros().min(999_999);
    match form {
        0 => put(out, b'.', micros, 6),
        1 => put(out, b'.', micros / 1000, 3),
        _ => {}
    }
    out.put_u8(b'Z');
    true
}

fn put(out: &mut impl BufMut, separator: u8, value: u32, width: usize) {
    out.put_u8(separator);
    digits(out, value, width);
}

/// `value`'s last `width` (at most 6) decimal digits, zero-padded.
fn digits(out: &mut impl BufMut, value: u32, width: usize) {
    let mut buffer = [b'0'; 6];
    let mut rest = value;
    for slot in buffer[..width].iter_mut().rev() {
        *slot = b'0' + u8::try_from(rest % 10).unwrap_or(0);
        rest /= 10;
    }
    out.put_slice(&buffer[..width]);
}
