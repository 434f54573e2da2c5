//! The provider's webhooks: a connection's subscription, whose key signs its deliveries, and
//! what a delivery changed. Checking a signature and reading a delivery are the adapter's
//! ([`crate::ports::WebhookDeliveries`]).

use std::fmt;

use secrecy::{ExposeSecret, SecretString};

use crate::invalid::InvalidValue;

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

/// What a delivery says changed, as the adapter that reads deliveries tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Nothing the gateway keeps: an event it does not act on, or a body it cannot read.
    Nothing,
    /// The account's available and busy times (a booking made or canceled).
    Times,
    /// Everything remembered of the account (its event types changed).
    Everything,
}

/// A delivery whose signature holds: its event (the provider's name, for logs and metrics;
/// `None` for a body that could not be read), and what it changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub event: Option<String>,
    pub change: Change,
}

#[cfg(test)]
mod tests;
