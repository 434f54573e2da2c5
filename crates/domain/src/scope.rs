//! Calendly's authorization scopes: what a connection was granted, and the scope each of the
//! gateway's operations needs. Calendly grants API access by scope (tokens and OAuth
//! applications made since March 2026 get none they did not ask for); a `:write` scope
//! includes the `:read` scope of its domain.

use std::fmt;

/// A scope the gateway's operations need.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    UsersRead,
    EventTypesRead,
    AvailabilityRead,
    ScheduledEventsRead,
    ScheduledEventsWrite,
    WebhooksRead,
    WebhooksWrite,
}

impl Scope {
    /// Calendly's name for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::UsersRead => "users:read",
            Self::EventTypesRead => "event_types:read",
            Self::AvailabilityRead => "availability:read",
            Self::ScheduledEventsRead => "scheduled_events:read",
            Self::ScheduledEventsWrite => "scheduled_events:write",
            Self::WebhooksRead => "webhooks:read",
            Self::WebhooksWrite => "webhooks:write",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Every operation of the gateway that calls Calendly, and the scopes it needs: the one table
/// the docs repeat (docs/api.md, "Scopes"). Webhook subscriptions are optional: without
/// `webhooks:write` a connection works on TTLs alone.
pub const OPERATION_SCOPES: &[(&str, &[Scope])] = &[
    ("PUT /calendly/connection", &[Scope::UsersRead]),
    ("POST /calendly/oauth/complete", &[Scope::UsersRead]),
    ("GET /calendly/user-event-types", &[Scope::EventTypesRead]),
    ("GET /calendly/check-availability", &[Scope::EventTypesRead]),
    ("GET /calendly/slots", &[Scope::EventTypesRead]),
    ("GET /calendly/busy-times", &[Scope::AvailabilityRead]),
    (
        "GET /calendly/availability-schedules",
        &[Scope::AvailabilityRead],
    ),
    (
        "POST /calendly/bookings",
        &[Scope::ScheduledEventsWrite, Scope::EventTypesRead],
    ),
    ("GET /calendly/bookings", &[Scope::ScheduledEventsRead]),
    (
        "GET /calendly/bookings/{uuid}",
        &[Scope::ScheduledEventsRead],
    ),
    (
        "POST /calendly/bookings/{uuid}/cancellation",
        &[Scope::ScheduledEventsWrite],
    ),
    (
        "webhook subscriptions (optional)",
        &[
            Scope::WebhooksWrite,
            Scope::ScheduledEventsRead,
            Scope::EventTypesRead,
        ],
    ),
];

/// The scopes a connection was granted, as Calendly's token answer named them (space
/// separated). `default` is what Calendly answers for applications made before scopes: they
/// may do everything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scopes(Vec<String>);

impl Scopes {
    /// The scopes in Calendly's `scope` value: names separated by spaces; empty names dropped.
    pub fn parse(value: &str) -> Self {
        Self(value.split_whitespace().map(str::to_owned).collect())
    }

    pub fn names(&self) -> &[String] {
        &self.0
    }

    /// Whether `scope` is granted: by name, by the `:write` scope of its domain, or by the
    /// legacy `default`.
    pub fn grants(&self, scope: Scope) -> bool {
        let wanted = scope.as_str();
        let write = wanted
            .strip_suffix(":read")
            .map(|domain| format!("{domain}:write"));
        self.0.iter().any(|granted| {
            granted == "default" || granted == wanted || write.as_deref() == Some(granted)
        })
    }

    /// Space-separated, as Calendly writes them.
    pub fn joined(&self) -> String {
        self.0.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scope_is_granted_by_name_by_its_write_twin_or_by_default() {
        let scopes = Scopes::parse("users:read  scheduled_events:write");
        assert!(scopes.grants(Scope::UsersRead));
        assert!(scopes.grants(Scope::ScheduledEventsRead));
        assert!(scopes.grants(Scope::ScheduledEventsWrite));
        assert!(!scopes.grants(Scope::EventTypesRead));
        assert!(!scopes.grants(Scope::WebhooksWrite));
        assert!(Scopes::parse("default").grants(Scope::WebhooksWrite));
        assert!(!Scopes::parse("").grants(Scope::UsersRead));
        assert_eq!(scopes.joined(), "users:read scheduled_events:write");
    }

    #[test]
    fn every_operation_names_at_least_one_scope() {
        assert!(
            OPERATION_SCOPES
                .iter()
                .all(|(_, scopes)| !scopes.is_empty())
        );
    }
}
