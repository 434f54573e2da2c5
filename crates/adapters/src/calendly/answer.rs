//! One call's answer, as both Calendly clients (the API's and the OAuth server's) read it.

use std::time::Duration;

use domain::{ProviderError, Rejection};
use reqwest::StatusCode;
use serde_json::Value;

use super::CallOutcome;
use super::budget::RateHeaders;
use crate::error_chain;

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

fn not_calendly_json(status: StatusCode) -> ProviderError {
    ProviderError::Unavailable {
        reason: format!("Calendly answered {status} with a body that is not its JSON error"),
    }
}
