//! Calendly's webhook deliveries: the signature every one carries
//! (`Calendly-Webhook-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`, under
//! the subscription's key or the OAuth application's), and what its `event` changed, as a
//! [`WebhookDeliveries`].

use chrono::{DateTime, TimeDelta, Utc};
use domain::{Change, Delivery, SignatureError, SigningKey, WebhookDeliveries};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

/// [`WebhookDeliveries`] for Calendly's deliveries: no state, no call.
#[derive(Debug, Clone, Copy, Default)]
pub struct CalendlyDeliveries;

#[derive(Deserialize)]
struct Event {
    event: String,
}

impl WebhookDeliveries for CalendlyDeliveries {
    fn read(
        &self,
        keys: &[&SigningKey],
        signature: Option<&str>,
        body: &[u8],
        now: DateTime<Utc>,
        tolerance: TimeDelta,
    ) -> Result<Delivery, SignatureError> {
        verify_signature_with_any(keys, signature, body, now, tolerance)?;
        let event = serde_json::from_slice::<Event>(body).ok().map(|e| e.event);
        let change = match event.as_deref() {
            Some(event) if event.starts_with("invitee.") => Change::Times,
            Some(event) if event.starts_with("event_type.") => Change::Everything,
            _ => Change::Nothing,
        };
        Ok(Delivery { event, change })
    }
}

/// Checks `header` for `body` under `key` at `now`: `t` within `tolerance` of now (either
/// way), and one of its `v1` values (Calendly may send several while it rotates) the HMAC of
/// `"<t>.<body>"`, compared in constant time.
pub(crate) fn verify_signature(
    key: &SigningKey,
    header: Option<&str>,
    body: &[u8],
    now: DateTime<Utc>,
    tolerance: TimeDelta,
) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    let mut timestamp: Option<&str> = None;
    let mut signatures: Vec<Vec<u8>> = Vec::new();
    for part in header.split(',') {
        let (name, value) = part
            .trim()
            .split_once('=')
            .ok_or(SignatureError::Malformed)?;
        match name {
            "t" if timestamp.is_none() => timestamp = Some(value),
            "t" => return Err(SignatureError::Malformed),
            "v1" => signatures.push(hex(value).ok_or(SignatureError::Malformed)?),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::Malformed)?;
    if signatures.is_empty() {
        return Err(SignatureError::Malformed);
    }
    let seconds: i64 = timestamp
        .parse()
        .ok()
        .filter(|_| timestamp.bytes().all(|b| b.is_ascii_digit()))
        .ok_or(SignatureError::Malformed)?;
    let signed_at = DateTime::from_timestamp(seconds, 0).ok_or(SignatureError::Malformed)?;
    if (now - signed_at).abs() > tolerance {
        return Err(SignatureError::Stale);
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(key.expose().as_bytes())
        .map_err(|_| SignatureError::Mismatch)?;
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    let matches = signatures
        .iter()
        // `verify_slice` compares in constant time; every value is tried.
        .fold(false, |found, signature| {
            mac.clone().verify_slice(signature).is_ok() | found
        });
    if matches {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// Checks `header` as [`verify_signature`] does, under any of `keys` (an application key and
/// its predecessor while it is rotated). With no key at all, nothing matches.
pub(crate) fn verify_signature_with_any(
    keys: &[&SigningKey],
    header: Option<&str>,
    body: &[u8],
    now: DateTime<Utc>,
    tolerance: TimeDelta,
) -> Result<(), SignatureError> {
    let mut outcome = Err(SignatureError::Mismatch);
    for key in keys {
        outcome = verify_signature(key, header, body, now, tolerance);
        if outcome != Err(SignatureError::Mismatch) {
            return outcome;
        }
    }
    outcome
}

/// The bytes of lowercase or uppercase hex `text`.
fn hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || text.is_empty() {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(text.get(at..at + 2)?, 16).ok())
        .collect()
}

/// The signature header Calendly would send for `body` at `t` (for tests).
pub fn signature_header(key: &SigningKey, t: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.expose().as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("t={t},v1={hex}")
}

#[cfg(test)]
mod tests;
