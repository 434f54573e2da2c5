//! The gateway's vocabulary: users, their Calendly credential and the objects Calendly returns.

use std::borrow::Cow;
use std::fmt;

use bytes::Bytes;
use chrono::{DateTime, TimeDelta, Utc};
use secrecy::{ExposeSecret, SecretString};

pub use crate::invalid::InvalidValue;

/// Rejects empty strings, over-long strings and control characters.
fn checked_text(value: &str, what: &str, max_len: usize) -> Result<(), InvalidValue> {
    if value.is_empty() {
        return Err(InvalidValue(format!("{what} must not be empty")));
    }
    if value.len() > max_len {
        return Err(InvalidValue(format!(
            "{what} is longer than {max_len} bytes"
        )));
    }
    if value.chars().any(char::is_control) {
        return Err(InvalidValue(format!("{what} contains control characters")));
    }
    Ok(())
}

/// A user of the web application, as named by the `sub` claim of its access tokens. Opaque.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UserId(String);

impl UserId {
    pub const MAX_LEN: usize = 255;

    pub fn parse(value: impl Into<String>) -> Result<Self, InvalidValue> {
        let value = value.into();
        checked_text(&value, "user id", Self::MAX_LEN)?;
        Ok(Self(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

macro_rules! calendly_uri {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub struct $name(String);

        impl $name {
            pub const MAX_LEN: usize = 2048;

            pub fn parse(value: impl Into<String>) -> Result<Self, InvalidValue> {
                let value = value.into();
                checked_text(&value, $what, Self::MAX_LEN)?;
                Ok(Self(value))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

calendly_uri!(
    /// The URI Calendly gives a user, e.g. `https://api.calendly.com/users/AAAA`.
    CalendlyUserUri,
    "Calendly user URI"
);
calendly_uri!(
    /// The URI Calendly gives an event type, e.g. `https://api.calendly.com/event_types/AAAA`.
    EventTypeUri,
    "event type URI"
);

/// A Calendly credential (today a personal access token). Its `Debug` never shows it.
#[derive(Clone)]
pub struct CalendlyToken(SecretString);

impl CalendlyToken {
    pub const MAX_LEN: usize = 4096;

    /// Accepts a token as a user pasted it: surrounding white space is dropped; what is left
    /// must be visible ASCII, as a bearer credential in an HTTP header must be.
    pub fn parse(value: &str) -> Result<Self, InvalidValue> {
        let value = value.trim();
        if value.is_empty() {
            return Err(InvalidValue(
                "personal_access_token must not be empty".into(),
            ));
        }
        if value.len() > Self::MAX_LEN {
            return Err(InvalidValue(format!(
                "personal_access_token is longer than {} bytes",
                Self::MAX_LEN
            )));
        }
        if !value.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(InvalidValue(
                "personal_access_token may contain only visible ASCII characters".into(),
            ));
        }
        Ok(Self(SecretString::from(value)))
    }

    /// The token itself, for the one place that sends it to Calendly or encrypts it.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for CalendlyToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CalendlyToken([REDACTED])")
    }
}

/// Who a Calendly credential belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendlyUser {
    pub uri: CalendlyUserUri,
    pub name: String,
    pub email: String,
    pub scheduling_url: String,
    pub timezone: String,
    /// The organization the user belongs to (webhook subscriptions are made in it); `None`
    /// when the provider did not say.
    pub organization: Option<String>,
}

/// How a user connected their Calendly account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionMethod {
    PersonalAccessToken,
    OAuth,
}

impl ConnectionMethod {
    /// As the API and the store name it: `personal_access_token` or `oauth`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PersonalAccessToken => "personal_access_token",
            Self::OAuth => "oauth",
        }
    }
}

/// What acts for a user at Calendly.
#[derive(Debug, Clone)]
pub enum CalendlyCredential {
    /// A personal access token the user pasted; it does not expire.
    PersonalAccessToken(CalendlyToken),
    /// Tokens from Calendly's OAuth server: the access token acts from `issued_at` until
    /// `expires_at`; the refresh token renews the pair, once. `refresh_token` is `None` once
    /// Calendly refused it: the user must connect again.
    OAuth {
        access_token: CalendlyToken,
        refresh_token: Option<CalendlyToken>,
        issued_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    },
}

/// How long before its expiry an access token is renewed: a minute, or half its lifetime when
/// that is shorter (short-lived tokens are renewed once per lifetime, not at every use).
const RENEWAL_MARGIN: TimeDelta = TimeDelta::seconds(60);

impl CalendlyCredential {
    /// The token sent to Calendly's API.
    pub fn access_token(&self) -> &CalendlyToken {
        match self {
            Self::PersonalAccessToken(token)
            | Self::OAuth {
                access_token: token,
                ..
            } => token,
        }
    }

    pub fn method(&self) -> ConnectionMethod {
        match self {
            Self::PersonalAccessToken(_) => ConnectionMethod::PersonalAccessToken,
            Self::OAuth { .. } => ConnectionMethod::OAuth,
        }
    }

    /// This credential once its refresh token was refused: it renews no more.
    #[must_use]
    pub fn without_refresh_token(self) -> Self {
        match self {
            Self::OAuth {
                access_token,
                issued_at,
                expires_at,
                ..
            } => Self::OAuth {
                access_token,
                refresh_token: None,
                issued_at,
                expires_at,
            },
            personal => personal,
        }
    }

    /// Whether the access token is to be renewed before it is used at `now`: within a minute
    /// of its expiry (or half its lifetime, when shorter), or past it. Never for a personal
    /// access token.
    pub fn renewal_due(&self, now: DateTime<Utc>) -> bool {
        match self {
            Self::PersonalAccessToken(_) => false,
            Self::OAuth {
                issued_at,
                expires_at,
                ..
            } => {
                let margin = RENEWAL_MARGIN.min((*expires_at - *issued_at) / 2);
                now >= *expires_at - margin
            }
        }
    }
}

/// A user's connected Calendly account: the credential and whose it is.
#[derive(Debug, Clone)]
pub struct CalendlyConnection {
    pub user_id: UserId,
    pub credential: CalendlyCredential,
    pub calendly_user: CalendlyUser,
    pub connected_at: DateTime<Utc>,
    /// The connection's webhook subscription at the provider.
    pub webhooks: crate::webhook::Webhooks,
    /// The scopes the provider granted, when it said (OAuth's token answer); `None`: unknown
    /// (a personal access token), and every call is tried.
    pub scopes: Option<crate::scope::Scopes>,
}

/// One JSON value exactly as the provider wrote it, fields the gateway does not model included,
/// so that clients see everything the provider says. It is a slice of the provider's answer,
/// shared rather than copied.
#[derive(Clone, PartialEq, Eq)]
pub struct RawJson(Bytes);

impl RawJson {
    /// `json`, which the adapter has just parsed as one complete JSON value.
    pub fn parsed(json: Bytes) -> Self {
        Self(json)
    }

    /// `text` if it is one complete JSON value.
    pub fn parse(text: impl Into<Bytes>) -> Result<Self, InvalidValue> {
        let bytes = text.into();
        serde_json::from_slice::<serde::de::IgnoredAny>(&bytes)
            .map_err(|e| InvalidValue(format!("not JSON: {e}")))?;
        Ok(Self(bytes))
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The JSON, sharing its buffer.
    pub fn shared(&self) -> Bytes {
        self.0.clone()
    }

    pub fn text(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.0)
    }
}

/// Kept (an answer remembered for a retry) as the JSON text it is.
impl serde::Serialize for RawJson {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text())
    }
}

impl<'de> serde::Deserialize<'de> for RawJson {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(text).map_err(serde::de::Error::custom)
    }
}

impl fmt::Debug for RawJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text())
    }
}

/// One of a user's event types.
#[derive(Debug, Clone)]
pub struct EventType {
    pub uri: EventTypeUri,
    /// How long a meeting of this type lasts, in minutes, when the provider said.
    pub duration_minutes: Option<u32>,
    /// Whether it can be booked (the provider's `active`; true when it did not say).
    pub active: bool,
    pub json: RawJson,
}

/// A time the user is busy: an event of theirs on Calendly, or on a calendar Calendly checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusyTime {
    pub start_time: DateTime<Utc>,
    pub end_time: DateTime<Utc>,
    pub json: RawJson,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_id_rejects_empty_long_and_control_characters() {
        assert!(UserId::parse("").is_err());
        assert!(UserId::parse("a".repeat(256)).is_err());
        assert!(UserId::parse("a\nb").is_err());
        assert_eq!(
            UserId::parse("42").map(|u| u.to_string()),
            Ok("42".to_string())
        );
    }

    #[test]
    fn token_is_trimmed_and_must_be_visible_ascii() {
        let token = CalendlyToken::parse("  abc.def-123 \n").expect("valid token");
        assert_eq!(token.expose(), "abc.def-123");
        assert!(CalendlyToken::parse("   ").is_err());
        assert!(CalendlyToken::parse("abc def").is_err());
        assert!(CalendlyToken::parse("abc\r\nX-Injected: 1").is_err());
        assert!(CalendlyToken::parse("é").is_err());
        assert!(CalendlyToken::parse(&"a".repeat(4097)).is_err());
    }

    #[test]
    fn raw_json_must_be_one_json_value() {
        assert_eq!(
            RawJson::parse(r#"{"a": [1, 2]}"#).map(|j| j.text().into_owned()),
            Ok(r#"{"a": [1, 2]}"#.to_owned())
        );
        assert!(RawJson::parse("{").is_err());
        assert!(RawJson::parse("1 2").is_err());
    }

    fn oauth(issued_at: &str, expires_at: &str) -> CalendlyCredential {
        let at = |s: &str| DateTime::parse_from_rfc3339(s).expect("time").to_utc();
        CalendlyCredential::OAuth {
            access_token: CalendlyToken::parse("access").expect("token"),
            refresh_token: Some(CalendlyToken::parse("refresh").expect("token")),
            issued_at: at(issued_at),
            expires_at: at(expires_at),
        }
    }

    #[test]
    fn an_access_token_is_due_for_renewal_a_minute_before_expiry_or_half_its_life_when_shorter() {
        let at = |s: &str| DateTime::parse_from_rfc3339(s).expect("time").to_utc();
        let two_hours = oauth("2030-01-01T00:00:00Z", "2030-01-01T02:00:00Z");
        assert!(!two_hours.renewal_due(at("2030-01-01T01:58:59Z")));
        assert!(two_hours.renewal_due(at("2030-01-01T01:59:00Z")));
        assert!(two_hours.renewal_due(at("2030-01-01T03:00:00Z")));
        let two_seconds = oauth("2030-01-01T00:00:00Z", "2030-01-01T00:00:02Z");
        assert!(!two_seconds.renewal_due(at("2030-01-01T00:00:00.999Z")));
        assert!(two_seconds.renewal_due(at("2030-01-01T00:00:01Z")));
        let personal =
            CalendlyCredential::PersonalAccessToken(CalendlyToken::parse("pat").expect("token"));
        assert!(!personal.renewal_due(at("2100-01-01T00:00:00Z")));
    }

    #[test]
    fn token_debug_is_redacted() {
        let token = CalendlyToken::parse("super-secret").expect("valid token");
        let shown = format!("{token:?}");
        assert!(!shown.contains("super-secret"));
        assert!(shown.contains("REDACTED"));
    }
}
