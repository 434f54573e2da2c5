//! One call's answer, as both Calendly clients (the API's and the OAuth server's) read it.

use std::time::Duration;

use domain::ProviderError;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;

use super::CallOutcome;
use crate::error_chain;

/// A complete answer of Calendly: its status, `X-RateLimit-Reset`, and its whole body.
pub(super) type Answer = (StatusCode, Option<Duration>, bytes::Bytes);

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
    let retry_after = retry_after(response.headers());
    Ok((status, retry_after, response.bytes().await?))
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

/// `X-RateLimit-Reset`: seconds until the window resets.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get("x-ratelimit-reset")?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}
