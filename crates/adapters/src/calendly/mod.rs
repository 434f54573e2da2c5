//! Calendly's API v2 as a [`SchedulingProvider`], over one shared `reqwest` client
//! (keep-alive, rustls with ring, a deadline per call).

mod answer;
mod circuit;
mod oauth;
mod wire;

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use domain::{
    AvailableTime, BusyTime, CalendlyToken, CalendlyUser, CalendlyUserUri, EventType, EventTypeUri,
    ProviderError, RawJson, Rejection, SchedulingProvider, TimeRange,
};
use reqwest::StatusCode;
use serde_json::Value;
use tokio::time::Instant;
use tracing::instrument;

use answer::{Answer, transport_error, whole_answer};
pub use circuit::CircuitBreaker;
pub use oauth::{CalendlyOAuthClient, CalendlyOAuthSettings};

/// Calendly's page size limit.
const PAGE_SIZE: &str = "100";
/// A bound on pages followed, so that a provider inventing new tokens cannot loop us forever.
const MAX_PAGES: usize = 1000;
/// The pause before the one retry: this, plus up to as much again at random.
const RETRY_BACKOFF: Duration = Duration::from_millis(100);
/// A retry is made only if at least this much of the deadline would be left for it.
const MIN_RETRY_TIME: Duration = Duration::from_millis(250);

/// How to reach Calendly.
#[derive(Debug, Clone)]
pub struct CalendlyClientSettings {
    /// e.g. `https://api.calendly.com`, without a trailing slash.
    pub api_base_url: String,
    /// The deadline of one call, from sending the request to the end of the body, its retry
    /// included.
    pub timeout: Duration,
    /// The longest wait for a TCP (and TLS) connection to Calendly.
    pub connect_timeout: Duration,
    /// Idle keep-alive connections kept per host.
    pub max_idle_connections: usize,
    /// Told of every call, when given (metrics).
    pub observer: Option<Arc<dyn CallObserver>>,
    /// Shared by every client of the process, so that all stop calling a failing Calendly.
    pub circuit: Arc<CircuitBreaker>,
}

/// How a call to Calendly ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallOutcome {
    /// Calendly answered with this status (and its whole body arrived).
    Status(u16),
    /// No complete answer within the deadline.
    Timeout,
    /// No complete answer: connection refused or reset, a body cut short.
    Failed,
}

/// Is told of every call to Calendly: which endpoint (its path, such as `/users/me`), how it
/// ended and how long it took.
pub trait CallObserver: Send + Sync + fmt::Debug {
    fn observe(&self, endpoint: &'static str, outcome: CallOutcome, elapsed: Duration);
}

/// Makes ring the process's TLS crypto provider. reqwest is built without one (which keeps
/// aws-lc's C build out) and refuses to build a client until one is installed; every process
/// that builds a reqwest client calls this first. A second call changes nothing.
pub fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The HTTP client could not be set up (no TLS backend, for instance, or a base URL that is
/// not one).
#[derive(Debug, thiserror::Error)]
pub enum ClientBuildError {
    #[error("cannot set up the Calendly HTTP client: {0}")]
    Http(#[from] reqwest::Error),
    #[error("{0:?} is not a URL: {1}")]
    BaseUrl(String, String),
}

/// [`SchedulingProvider`] on Calendly.
#[derive(Clone)]
pub struct CalendlyClient {
    http: reqwest::Client,
    base_url: String,
    timeout: Duration,
    observer: Option<Arc<dyn CallObserver>>,
    circuit: Arc<CircuitBreaker>,
}

impl fmt::Debug for CalendlyClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CalendlyClient")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl CalendlyClient {
    pub fn new(settings: &CalendlyClientSettings) -> Result<Self, ClientBuildError> {
        install_tls_provider();
        let http = reqwest::Client::builder()
            .connect_timeout(settings.connect_timeout.min(settings.timeout))
            .pool_max_idle_per_host(settings.max_idle_connections)
            .pool_idle_timeout(Duration::from_secs(90))
            .tcp_nodelay(true)
            .user_agent(concat!("calendly-gateway/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            http,
            base_url: settings.api_base_url.trim_end_matches('/').to_owned(),
            timeout: settings.timeout,
            observer: settings.observer.clone(),
            circuit: Arc::clone(&settings.circuit),
        })
    }

    /// GET `path` with `query`, within the call's deadline; the body of a 2xx answer, or the
    /// port's error for anything else. A connection failure or a 502/503/504 is tried once more
    /// after a short random pause, when enough of the deadline is left; a timeout or a 429 is
    /// not. While the circuit is open, no call goes out.
    async fn get(
        &self,
        token: &CalendlyToken,
        path: &'static str,
        query: &[(&str, &str)],
    ) -> Result<bytes::Bytes, ProviderError> {
        let deadline = Instant::now() + self.timeout;
        let mut retried = false;
        loop {
            self.circuit
                .admit()
                .map_err(|wait| ProviderError::Unavailable {
                    reason: format!(
                        "Calendly keeps failing; calls are refused for another {} ms",
                        wait.as_millis()
                    ),
                })?;
            let started = Instant::now();
            let left = deadline.saturating_duration_since(started);
            let answer = self.exchange(token, path, query, left).await;
            let outcome = CallOutcome::of(&answer);
            if let Some(observer) = &self.observer {
                observer.observe(path, outcome, started.elapsed());
            }
            if matches!(outcome, CallOutcome::Status(status) if status < 500) {
                self.circuit.succeeded();
            } else {
                self.circuit.failed();
            }
            let retryable = matches!(
                outcome,
                CallOutcome::Failed | CallOutcome::Status(502..=504)
            );
            if retryable
                && !retried
                && let Some(pause) = retry_pause(deadline, Instant::now(), jittered(RETRY_BACKOFF))
            {
                tracing::debug!(path, ?outcome, "retrying a failed Calendly call once");
                tokio::time::sleep(pause).await;
                retried = true;
                continue;
            }
            let (status, retry_after, body) = answer.map_err(transport_error)?;
            return if status.is_success() {
                Ok(body)
            } else {
                Err(refusal(status, retry_after, &body))
            };
        }
    }

    /// One request and its whole answer.
    async fn exchange(
        &self,
        token: &CalendlyToken,
        path: &str,
        query: &[(&str, &str)],
        timeout: Duration,
    ) -> Result<Answer, reqwest::Error> {
        whole_answer(
            self.http
                .get(format!("{}{path}", self.base_url))
                .timeout(timeout)
                .query(query)
                .bearer_auth(token.expose()),
        )
        .await
    }
}

#[async_trait]
impl SchedulingProvider for CalendlyClient {
    #[instrument(skip_all, err(Display))]
    async fn current_user(&self, token: &CalendlyToken) -> Result<CalendlyUser, ProviderError> {
        let body = self.get(token, "/users/me", &[]).await?;
        wire::current_user(&body)
    }

    #[instrument(level = "debug", skip_all, fields(user = %user), err(Display))]
    async fn event_types(
        &self,
        token: &CalendlyToken,
        user: &CalendlyUserUri,
    ) -> Result<Arc<[EventType]>, ProviderError> {
        let mut event_types: Vec<EventType> = Vec::new();
        let mut seen_uris = HashSet::new();
        let mut seen_page_tokens = HashSet::new();
        let mut page_token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut query = vec![("user", user.as_str()), ("count", PAGE_SIZE)];
            if let Some(page_token) = &page_token {
                query.push(("page_token", page_token));
            }
            let body = self.get(token, "/event_types", &query).await?;
            // Event types are remembered for a while, and they are slices of their page: a page
            // of its own, rather than part of whatever larger buffer it arrived in, keeps only
            // itself alive.
            let page = wire::event_types_page(&bytes::Bytes::copy_from_slice(&body))?;
            event_types.extend(
                page.event_types
                    .into_iter()
                    .filter(|event_type| seen_uris.insert(event_type.uri.clone())),
            );
            match page.next_page_token {
                None => return Ok(event_types.into()),
                // A token already followed leads where the gateway has been: what was read is
                // the whole list (a mock of Calendly's description repeats its example token).
                Some(next) if !seen_page_tokens.insert(next.clone()) => {
                    tracing::warn!(
                        pages = seen_page_tokens.len(),
                        event_types = event_types.len(),
                        "Calendly repeated a page token of the event type list; keeping what was read"
                    );
                    return Ok(event_types.into());
                }
                Some(next) => page_token = Some(next),
            }
        }
        Err(ProviderError::Unavailable {
            reason: format!("Calendly returned more than {MAX_PAGES} pages of event types"),
        })
    }

    #[instrument(level = "debug", skip_all, fields(event_type = %event_type, start = %range.start(), end = %range.end()), err(Display))]
    async fn available_times(
        &self,
        token: &CalendlyToken,
        event_type: &EventTypeUri,
        range: TimeRange,
    ) -> Result<Vec<AvailableTime>, ProviderError> {
        let start = wire::format_time(range.start());
        let end = wire::format_time(range.end());
        let query = [
            ("event_type", event_type.as_str()),
            ("start_time", start.as_str()),
            ("end_time", end.as_str()),
        ];
        let body = self
            .get(token, "/event_type_available_times", &query)
            .await?;
        wire::available_times(&body)
    }

    #[instrument(level = "debug", skip_all, err(Display))]
    async fn busy_times(
        &self,
        token: &CalendlyToken,
        user: &CalendlyUserUri,
        range: TimeRange,
    ) -> Result<Vec<BusyTime>, ProviderError> {
        let start = wire::format_time(range.start());
        let end = wire::format_time(range.end());
        let query = [
            ("user", user.as_str()),
            ("start_time", start.as_str()),
            ("end_time", end.as_str()),
        ];
        let body = self.get(token, "/user_busy_times", &query).await?;
        wire::busy_times(&body)
    }

    #[instrument(level = "debug", skip_all, err(Display))]
    async fn availability_schedules(
        &self,
        token: &CalendlyToken,
        user: &CalendlyUserUri,
    ) -> Result<Vec<RawJson>, ProviderError> {
        let body = self
            .get(
                token,
                "/user_availability_schedules",
                &[("user", user.as_str())],
            )
            .await?;
        wire::objects(&body, "availability schedule")
    }
}

/// The pause before a retry at `now`, if the retry would still have [`MIN_RETRY_TIME`] of the
/// call's deadline after it.
fn retry_pause(deadline: Instant, now: Instant, pause: Duration) -> Option<Duration> {
    (deadline.saturating_duration_since(now) > pause + MIN_RETRY_TIME).then_some(pause)
}

/// `base` plus up to as much again: retries from many requests do not arrive together. The
/// randomness need not be good, so it comes from the clock.
fn jittered(base: Duration) -> Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    base + base.mul_f64(f64::from(nanos % 1000) / 1000.0)
}

/// The port's error for a non-2xx answer. Calendly's error body is passed on as the details;
/// a refusal whose body is not Calendly's JSON error is not Calendly speaking, so it counts as
/// a failure of the upstream.
fn refusal(status: StatusCode, retry_after: Option<Duration>, body: &[u8]) -> ProviderError {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_retry_is_made_only_with_enough_of_the_deadline_left() {
        let pause = Duration::from_millis(150);
        let deadline = Instant::now() + Duration::from_secs(1);
        assert_eq!(retry_pause(deadline, Instant::now(), pause), Some(pause));
        tokio::time::advance(Duration::from_millis(599)).await;
        assert_eq!(retry_pause(deadline, Instant::now(), pause), Some(pause));
        tokio::time::advance(Duration::from_millis(1)).await;
        assert_eq!(
            retry_pause(deadline, Instant::now(), pause),
            None,
            "400 ms left"
        );
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(
            retry_pause(deadline, Instant::now(), pause),
            None,
            "past it"
        );
    }

    #[test]
    fn the_pause_is_jittered_between_once_and_twice_the_base() {
        for _ in 0..100 {
            let pause = jittered(RETRY_BACKOFF);
            assert!(
                pause >= RETRY_BACKOFF && pause < RETRY_BACKOFF * 2,
                "{pause:?}"
            );
        }
    }
}
