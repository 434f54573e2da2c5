//! One call's answer, as both Calendly clients (the API's and the OAuth server's) read it.

use std::time::Duration;

use domain::{ProviderError, Rejection, Scope};
use reqwest::StatusCode;
use serde_json::Value;

use crate::errors::error_chain;
use crate::resilience::CallOutcome;
use crate::resilience::RateHeaders;

/// A complete answer of Calendly: its status, its rate-limit headers, and its whole body.
pub(super) type Answer = (StatusCode, RateHeaders, bytes::Bytes);

impl CallOutcome {
    /// How a call that gave `answer` ended.
    pub(super) fn of(answer: &Result<Answer, reqwest::Error>) -> Self {
        match answer {
            Ok((status, ..)) => Self::Status(status.as_u16()),
            Err(error) if error.is_timeout() => Self::Timeout,
            Err(_) => Self::Failed,
        }
    }
}

/// Sends `request` and reads its whole answer.
pub(super) async fn whole_answer(
    request: reqwest::RequestBuilder,
) -> Result<Answer, reqwest::Error> {
    let response = request.send().await?;
    let status = response.status();
    let rate = RateHeaders::read(response.headers());
    Ok((status, rate, response.bytes().await?))
}

/// The port's error for a call that got no complete answer.
pub(super) fn transport_error(error: reqwest::Error) -> ProviderError {
    if error.is_timeout() {
        ProviderError::Timeout
    } else {
        ProviderError::Unavailable {
            reason: error_chain(&error.without_url()),
        }
    }
}

/// The port's error for a non-2xx answer. Calendly's error body is passed on as the details;
/// a refusal whose body is not Calendly's JSON error is not Calendly speaking, so it counts as
/// a failure of the upstream.
pub(crate) fn refusal(
    status: StatusCode,
    retry_after: Option<Duration>,
    body: &[u8],
) -> ProviderError {
    let details = serde_json::from_slice::<Value>(body)
        .ok()
        .filter(Value::is_object);
    let rejection = |reason| match details.clone() {
        Some(details) => ProviderError::Rejected { reason, details },
        None => not_calendly_json(status),
    };
    match status {
        StatusCode::UNAUTHORIZED => match details {
            Some(details) => ProviderError::CredentialRejected { details },
            None => not_calendly_json(status),
        },
        StatusCode::TOO_MANY_REQUESTS => ProviderError::RateLimited {
            retry_after,
            details: details.unwrap_or(Value::Null),
        },
        StatusCode::BAD_REQUEST => rejection(Rejection::BadArgument),
        StatusCode::FORBIDDEN => rejection(Rejection::Forbidden),
        StatusCode::NOT_FOUND => rejection(Rejection::NotFound),
        StatusCode::CONFLICT => rejection(Rejection::Conflict),
        other => ProviderError::Unavailable {
            reason: format!("Calendly answered {other}"),
        },
    }
}

/// The scope Calendly asks for `method` on `endpoint` (its scope catalog).
pub(super) fn scope_of(method: &reqwest::Method, endpoint: &str) -> Option<Scope> {
    Some(match endpoint {
        "/users/me" => Scope::UsersRead,
        "/event_types" | "/event_type_available_times" => Scope::EventTypesRead,
        "/user_busy_times" | "/user_availability_schedules" => Scope::AvailabilityRead,
        "/webhook_subscriptions" | "/webhook_subscriptions/{uuid}"
            if method == reqwest::Method::GET =>
        {
            Scope::WebhooksRead
        }
        "/webhook_subscriptions" | "/webhook_subscriptions/{uuid}" => Scope::WebhooksWrite,
        "/invitees" | "/scheduled_events/{uuid}/cancellation" => Scope::ScheduledEventsWrite,
        "/scheduled_events" | "/scheduled_events/{uuid}" | "/scheduled_events/{uuid}/invitees" => {
            Scope::ScheduledEventsRead
        }
        _ => return None,
    })
}

/// `error` as a missing scope when it is Calendly's 403 saying so (its message speaks of a
/// scope) for an endpoint whose scope is known; else `error` as it is.
pub(super) fn scope_refusal(
    error: ProviderError,
    method: &reqwest::Method,
    endpoint: &str,
) -> ProviderError {
    match (error, scope_of(method, endpoint)) {
        (
            ProviderError::Rejected {
                reason: Rejection::Forbidden,
                details,
            },
            Some(scope),
        ) if speaks_of_scope(&details) => ProviderError::ScopeMissing { scope, details },
        (error, _) => error,
    }
}

/// Whether Calendly's error body names a scope (in its title, message or details).
fn speaks_of_scope(details: &Value) -> bool {
    let mentions = |value: &Value| {
        value
            .as_str()
            .is_some_and(|text| text.to_ascii_lowercase().contains("scope"))
    };
    mentions(&details["title"])
        || mentions(&details["message"])
        || details["details"]
            .as_array()
            .is_some_and(|items| items.iter().any(|item| mentions(&item["message"])))
}

fn not_calendly_json(status: StatusCode) -> ProviderError {
    ProviderError::Unavailable {
        reason: format!("Calendly answered {status} with a body that is not its JSON error"),
    }
}
