//! Calendly's API v2 as a [`SchedulingProvider`], over one shared `reqwest` client
//! (keep-alive, rustls with ring, a deadline per call).

mod answer;
mod booking_wire;
mod bookings;
mod flat;
mod oauth;
mod signature;
mod webhooks;
pub(crate) mod wire;

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use domain::{
    AvailableTimes, BusyTime, CalendlyToken, CalendlyUser, CalendlyUserUri, EventType,
    EventTypeUri, ProviderError, RawJson, SchedulingProvider, TimeRange, TimesAsked,
};
use reqwest::StatusCode;
use serde_json::Value;
use tokio::time::Instant;
use tracing::instrument;

pub use crate::resilience::{
    CallObserver, CallOutcome, CircuitBreaker, ClientBuildError, RateBudgets,
};
use crate::resilience::{RETRY_BACKOFF, RateHeaders, jittered, retry_pause};
pub use crate::tls_provider::install_tls_provider;
use answer::{Answer, refusal, scope_refusal, transport_error, whole_answer};
pub use oauth::{CalendlyOAuthClient, CalendlyOAuthSettings};
pub use signature::{CalendlyDeliveries, signature_header};

/// Calendly's page size limit.
const PAGE_SIZE: &str = "100";
/// The booking endpoint, limited apart from every other call.
const BOOKING_ENDPOINT: &str = "/invitees";
/// A bound on pages followed, so that a provider inventing new tokens cannot loop us forever.
const MAX_PAGES: usize = 1000;

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
    /// Each account's calls left, shared by every client of the process.
    pub budgets: Arc<RateBudgets>,
    /// Each account's bookings left (`POST /invitees` is limited apart), likewise.
    pub booking_budgets: Arc<RateBudgets>,
}

/// [`SchedulingProvider`] on Calendly.
#[derive(Clone)]
pub struct CalendlyClient {
    http: reqwest::Client,
    /// Parsed once: each call's URL is a copy with its path and query set.
    base_url: reqwest::Url,
    timeout: Duration,
    observer: Option<Arc<dyn CallObserver>>,
    circuit: Arc<CircuitBreaker>,
    budgets: Arc<RateBudgets>,
    booking_budgets: Arc<RateBudgets>,
}

impl fmt::Debug for CalendlyClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CalendlyClient")
            .field("base_url", &self.base_url.as_str())
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
            // The API answers where it is asked; a redirect is an unexpected answer, not a
            // place to send the token. Retries are the gateway's own (see `call`).
            .redirect(reqwest::redirect::Policy::none())
            .retry(reqwest::retry::never())
            .user_agent(concat!("calendly-gateway/", env!("CARGO_PKG_VERSION")))
            .build()?;
        let base = settings.api_base_url.trim_end_matches('/');
        let base_url = reqwest::Url::parse(base)
            .map_err(|error| ClientBuildError::BaseUrl(base.to_owned(), error.to_string()))?;
        Ok(Self {
            http,
            base_url,
            timeout: settings.timeout,
            observer: settings.observer.clone(),
            circuit: Arc::clone(&settings.circuit),
            budgets: Arc::clone(&settings.budgets),
            booking_budgets: Arc::clone(&settings.booking_budgets),
        })
    }

    /// GET `path` with `query` for `account`, within the call's deadline; the body of a 2xx
    /// answer, or the port's error for anything else. A connection failure or a 502/503/504 is
    /// tried once more after a short random pause, when enough of the deadline is left; a
    /// timeout or a 429 is not. While the circuit is open, or the account's budget is spent, no
    /// call goes out; each answer's rate-limit headers are recorded for the account.
    async fn get(
        &self,
        token: &CalendlyToken,
        account: &CalendlyUserUri,
        path: &'static str,
        query: &[(&str, &str)],
    ) -> Result<bytes::Bytes, ProviderError> {
        self.call(token, Some(account), Call::get(path, query))
            .await
            .map(|(body, _)| body)
    }

    /// As [`Self::get`], for any call, and for an account known only once answered (then it is
    /// the caller's to record the headers returned). A POST is never retried: it might have
    /// been made.
    async fn call(
        &self,
        token: &CalendlyToken,
        account: Option<&CalendlyUserUri>,
        call: Call<'_>,
    ) -> Result<(bytes::Bytes, RateHeaders), ProviderError> {
        let path = call.endpoint;
        let budgets = if path == BOOKING_ENDPOINT {
            &self.booking_budgets
        } else {
            &self.budgets
        };
        let deadline = Instant::now() + self.timeout;
        let mut retried = false;
        loop {
            if let Some(account) = account
                && let Err(wait) = budgets.admit(account).await
            {
                if let Some(observer) = &self.observer {
                    observer.refused_for_budget(path);
                }
                return Err(ProviderError::RateLimited {
                    retry_after: Some(wait),
                    details: Value::Null,
                });
            }
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
            let answer = self.exchange(token, &call, left).await;
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
                && call.method != reqwest::Method::POST
                && let Some(pause) = retry_pause(deadline, Instant::now(), jittered(RETRY_BACKOFF))
            {
                tracing::debug!(path, ?outcome, "retrying a failed Calendly call once");
                tokio::time::sleep(pause).await;
                retried = true;
                continue;
            }
            let (status, rate, body) = answer.map_err(transport_error)?;
            if let Some(account) = account {
                budgets
                    .record(account, rate, status == StatusCode::TOO_MANY_REQUESTS)
                    .await;
            }
            return if status.is_success() {
                Ok((body, rate))
            } else {
                let refused = refusal(status, rate.reset, &body);
                Err(scope_refusal(refused, &call.method, call.endpoint))
            };
        }
    }

    /// One request and its whole answer.
    async fn exchange(
        &self,
        token: &CalendlyToken,
        call: &Call<'_>,
        timeout: Duration,
    ) -> Result<Answer, reqwest::Error> {
        let path = call.path.as_deref().unwrap_or(call.endpoint);
        // The base's host is not parsed again (nor its name checked) for every call.
        let mut url = self.base_url.clone();
        let joined = format!("{}{path}", url.path().trim_end_matches('/'));
        url.set_path(&joined);
        if !call.query.is_empty() {
            url.query_pairs_mut().extend_pairs(call.query);
        }
        let mut request = self
            .http
            .request(call.method.clone(), url)
            .timeout(timeout)
            .bearer_auth(token.expose());
        if let Some(body) = call.body {
            request = request.json(body);
        }
        whole_answer(request).await
    }
}

/// One call to Calendly's API.
struct Call<'a> {
    method: reqwest::Method,
    /// The endpoint, as metrics name it (`/webhook_subscriptions/{uuid}`).
    endpoint: &'static str,
    /// The path called, when it is not `endpoint` itself.
    path: Option<String>,
    query: &'a [(&'a str, &'a str)],
    body: Option<&'a Value>,
}

impl<'a> Call<'a> {
    fn get(endpoint: &'static str, query: &'a [(&'a str, &'a str)]) -> Self {
        Self {
            method: reqwest::Method::GET,
            endpoint,
            path: None,
            query,
            body: None,
        }
    }
}

#[async_trait]
impl SchedulingProvider for CalendlyClient {
    #[instrument(skip_all, err(Display))]
    async fn current_user(&self, token: &CalendlyToken) -> Result<CalendlyUser, ProviderError> {
        let (body, rate) = self.call(token, None, Call::get("/users/me", &[])).await?;
        let user = wire::current_user(&body)?;
        self.budgets.record(&user.uri, rate, false).await;
        Ok(user)
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
            let body = self.get(token, user, "/event_types", &query).await?;
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
        account: &CalendlyUserUri,
        event_type: &EventTypeUri,
        range: TimeRange,
    ) -> Result<AvailableTimes, ProviderError> {
        let start = wire::format_time(range.start());
        let end = wire::format_time(range.end());
        let query = [
            ("event_type", event_type.as_str()),
            ("start_time", start.as_str()),
            ("end_time", end.as_str()),
        ];
        let body = self
            .get(token, account, "/event_type_available_times", &query)
            .await?;
        // Read in place: written out again, the times are one piece of Calendly's answer.
        wire::available_times(&body).map(|times| AvailableTimes::joined(times, body))
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
        let body = self.get(token, user, "/user_busy_times", &query).await?;
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
                user,
                "/user_availability_schedules",
                &[("user", user.as_str())],
            )
            .await?;
        wire::objects(&body, "availability schedule")
    }

    /// One call a question (each is no longer than Calendly answers at once), against what
    /// the account's budget is known to have left.
    async fn afford(
        &self,
        account: &CalendlyUserUri,
        asked: &[TimesAsked],
    ) -> Result<(), ProviderError> {
        let calls = u32::try_from(asked.len()).unwrap_or(u32::MAX);
        self.budgets.holds(account, calls).await.map_err(|wait| {
            if let Some(observer) = &self.observer {
                let busy = asked.iter().all(|question| question.event_type.is_none());
                observer.refused_for_budget(if busy {
                    "/user_busy_times"
                } else {
                    "/event_type_available_times"
                });
            }
            ProviderError::RateLimited {
                retry_after: Some(wait),
                details: Value::Null,
            }
        })
    }
}
