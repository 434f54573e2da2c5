//! Calendly's webhooks: a connection's subscription, and the signature every delivery carries
//! (`Calendly-Webhook-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`,
//! under the subscription's signing key).

use std::fmt;

use chrono::{DateTime, TimeDelta, Utc};
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

use crate::model::InvalidValue;

/// The id in a subscription's URL (`/calendly/webhooks/{hook_id}`): random, so that a URL
/// cannot be guessed from a user. Letters, digits, `-` and `_`, 16 to 64 of them.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct HookId(String);

impl HookId {
    pub fn parse(value: impl Into<String>) -> Result<Self, InvalidValue> {
        let value = value.into();
        let valid = (16..=64).contains(&value.len())
            && value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if valid {
            Ok(Self(value))
        } else {
            Err(InvalidValue("not a hook id".into()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for HookId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for HookId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HookId({})", self.0)
    }
}

/// The key Calendly signs a subscription's deliveries with: the gateway's own, random, and
/// never shown.
#[derive(Clone)]
pub struct SigningKey(SecretString);

impl SigningKey {
    pub fn new(key: impl Into<String>) -> Self {
        Self(SecretString::from(key.into()))
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningKey([redacted])")
    }
}

impl PartialEq for SigningKey {
    fn eq(&self, other: &Self) -> bool {
        self.expose() == other.expose()
    }
}

impl Eq for SigningKey {}

/// A connection's webhook subscription at the provider.
#[derive(Debug, Clone, PartialEq)]
pub enum Webhooks {
    /// The gateway has no public URL for webhooks: answers live out their TTLs.
    Off,
    /// The provider refused the subscription (a plan without webhooks, a scope not granted) or
    /// failed.
    Unavailable,
    Active(Subscription),
    /// The provider disabled the subscription (its deliveries kept failing) and it could not
    /// be made again yet: answers live out their TTLs until it is.
    Disabled(Subscription),
}

impl Webhooks {
    /// `active`, `disabled`, `unavailable` or `off`, as clients see it.
    pub fn status(&self) -> &'static str {
        match self {
            Self::Off => "off",
            Self::Unavailable => "unavailable",
            Self::Active(_) => "active",
            Self::Disabled(_) => "disabled",
        }
    }

    /// The subscription at the provider, active or disabled.
    pub fn subscription(&self) -> Option<&Subscription> {
        match self {
            Self::Active(subscription) | Self::Disabled(subscription) => Some(subscription),
            Self::Off | Self::Unavailable => None,
        }
    }
}

/// Whose key a subscription's deliveries are signed with. Calendly signs the deliveries of a
/// subscription made with a personal access token with the key sent along when it was made,
/// and those of one made with an OAuth token with the OAuth application's own key (it ignores
/// a key sent along).
#[derive(Debug, Clone, PartialEq)]
pub enum HookSigning {
    /// The subscription's own random key.
    Own(SigningKey),
    /// The OAuth application's webhook signing key (or, while it is rotated, its previous one).
    Application,
}

impl HookSigning {
    /// `subscription` or `application`, as the store names it.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Own(_) => "subscription",
            Self::Application => "application",
        }
    }
}

/// A subscription: where deliveries come, whose key signs them, and its URI at the provider.
#[derive(Debug, Clone, PartialEq)]
pub struct Subscription {
    pub hook_id: HookId,
    pub signing: HookSigning,
    pub uri: String,
}

/// What a new subscription is made with (the adapter draws both at random; the key is sent
/// only for subscriptions signed with their own key).
#[derive(Debug, Clone)]
pub struct NewHook {
    pub hook_id: HookId,
    pub signing_key: SigningKey,
}

/// A subscription's state as the provider reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscriptionState {
    Active,
    /// Disabled by the provider after its deliveries failed for a day.
    Disabled,
}

/// Why a delivery's signature is not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the signature header is missing")]
    Missing,
    #[error("the signature header is malformed")]
    Malformed,
    #[error("the signature's time is outside the tolerance")]
    Stale,
    #[error("no signature matches")]
    Mismatch,
}

/// Checks `header` for `body` under `key` at `now`: `t` within `tolerance` of now (either
/// way), and one of its `v1` values (Calendly may send several while it rotates) the HMAC of
/// `"<t>.<body>"`, compared in constant time.
pub fn verify_signature(
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
pub fn verify_signature_with_any(
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

/// The signature header Calendly would send for `body` at `t` (tests and the stand-in).
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
