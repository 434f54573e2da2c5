//! What operators see at `/metrics`: requests by route and status, Calendly calls by endpoint
//! and outcome, the database pools, and the caches, webhooks and rate budget ([`freshness`]).

mod freshness;

pub use freshness::FreshnessMetrics;

use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{Error, web};
use adapters::PoolStatus;
use adapters::calendly::{CallObserver, CallOutcome};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// Request latencies, in seconds: from a millisecond to Calendly's default deadline.
const LATENCY_BUCKETS: [f64; 13] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The route label of a request that matched no route: the path itself would let any client
/// create series without bound.
const UNMATCHED: &str = "unmatched";

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    /// The route's pattern, such as `/calendly/check-availability`.
    route: String,
    status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabels {
    /// Calendly's path, such as `/event_type_available_times`.
    endpoint: &'static str,
    /// Calendly's HTTP status, or `timeout` or `failed` when no complete answer came.
    status: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BookingLabels {
    /// `book` or `cancel`.
    action: &'static str,
    /// `booked`, `replayed`, `canceled`, or the error's code.
    outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabels {
    state: &'static str,
}

type PoolProbe = Box<dyn Fn() -> PoolStatus + Send + Sync>;

/// The two series of one (endpoint, outcome) of Calendly calls.
struct CallSeries {
    endpoint: &'static str,
    outcome: CallOutcome,
    calls: Counter,
    seconds: Histogram,
}

type LatencyFamily = Family<RequestLabels, Histogram, fn() -> Histogram>;
type CallLatencyFamily = Family<CallLabels, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

/// Every series, shared by all HTTP workers.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    request_seconds: LatencyFamily,
    calendly_calls: Family<CallLabels, Counter>,
    calendly_seconds: CallLatencyFamily,
    /// The series of each (endpoint, outcome) met so far, found again by a short scan: a call
    /// neither writes out its status nor hashes its labels into both families.
    call_series: RwLock<Vec<CallSeries>>,
    bookings: Family<BookingLabels, Counter>,
    pool_connections: Family<PoolLabels, Gauge>,
    pool_max: Gauge,
    pool_waiting: Gauge,
    /// Each HTTP worker's pool (each has its own share of the connections).
    pools: Mutex<Vec<PoolProbe>>,
    pub freshness: FreshnessMetrics,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by method, route and status",
            requests.clone(),
        );
        let request_seconds = LatencyFamily::new_with_constructor(latency_histogram);
        registry.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request, by method, route and status",
            request_seconds.clone(),
        );
        let calendly_calls = Family::<CallLabels, Counter>::default();
        registry.register(
            "calendly_calls",
            "Calls to Calendly, by endpoint and status (timeout, failed: no complete answer)",
            calendly_calls.clone(),
        );
        let calendly_seconds = CallLatencyFamily::new_with_constructor(latency_histogram);
        registry.register(
            "calendly_call_duration_seconds",
            "Time a call to Calendly took, by endpoint and status",
            calendly_seconds.clone(),
        );
        let bookings = Family::<BookingLabels, Counter>::default();
        registry.register(
            "bookings",
            "Bookings and cancellations asked for, by action and outcome (booked, replayed: an \
             idempotency key answering again, canceled, or the error's code)",
            bookings.clone(),
        );
        let pool_connections = Family::<PoolLabels, Gauge>::default();
        registry.register(
            "db_pool_connections",
            "Open database connections, in use or idle",
            pool_connections.clone(),
        );
        let pool_max = Gauge::default();
        registry.register(
            "db_pool_max_connections",
            "Most database connections the pools may open (database.pool_max_size)",
            pool_max.clone(),
        );
        let pool_waiting = Gauge::default();
        registry.register(
            "db_pool_waiting_requests",
            "Requests waiting for a database connection",
            pool_waiting.clone(),
        );
        let freshness = FreshnessMetrics::register(&mut registry);
        Self {
            registry,
            freshness,
            requests,
            bookings,
            request_seconds,
            calendly_calls,
            calendly_seconds,
            call_series: RwLock::default(),
            pool_connections,
            pool_max,
            pool_waiting,
            pools: Mutex::new(Vec::new()),
        }
    }

    /// Adds a database pool to the figures.
    pub fn watch_pool(&self, probe: impl Fn() -> PoolStatus + Send + Sync + 'static) {
        self.pools
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Box::new(probe));
    }

    fn observe_request(&self, method: &Method, route: Option<String>, status: u16, took: Duration) {
        let labels = RequestLabels {
            method: method_label(method),
            route: route.unwrap_or_else(|| UNMATCHED.to_owned()),
            status,
        };
        self.requests.get_or_create(&labels).inc();
        self.request_seconds
            .get_or_create(&labels)
            .observe(took.as_secs_f64());
    }

    /// A booking (`action` `book`) or cancellation (`cancel`) answered with `outcome`.
    pub fn observe_booking(&self, action: &'static str, outcome: &'static str) {
        self.bookings
            .get_or_create(&BookingLabels { action, outcome })
            .inc();
    }

    /// Every series in the OpenMetrics text format.
    pub fn render(&self) -> String {
        let (mut in_use, mut idle, mut max, mut waiting) = (0, 0, 0, 0);
        for probe in self
            .pools
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
        {
            let status = probe();
            idle += status.available;
            in_use += status.size.saturating_sub(status.available);
            max += status.max_size;
            waiting += status.waiting;
        }
        let gauge = |value: usize| i64::try_from(value).unwrap_or(i64::MAX);
        self.pool_connections
            .get_or_create(&PoolLabels { state: "in_use" })
            .set(gauge(in_use));
        self.pool_connections
            .get_or_create(&PoolLabels { state: "idle" })
            .set(gauge(idle));
        self.pool_max.set(gauge(max));
        self.pool_waiting.set(gauge(waiting));

        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)
            .expect("writing to a String cannot fail");
        text
    }
}

/// Methods as label values: the standard ones by name, anything else as `other`, so a client
/// cannot create series at will.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::POST => "POST",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::PATCH => "PATCH",
        _ => "other",
    }
}

impl CallObserver for Metrics {
    fn observe(&self, endpoint: &'static str, outcome: CallOutcome, elapsed: Duration) {
        let these = |series: &CallSeries| series.outcome == outcome && series.endpoint == endpoint;
        let count = |series: &CallSeries| {
            series.calls.inc();
            series.seconds.observe(elapsed.as_secs_f64());
        };
        let known = self
            .call_series
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(series) = known.iter().find(|series| these(series)) {
            return count(series);
        }
        drop(known);
        let labels = CallLabels {
            endpoint,
            status: match outcome {
                CallOutcome::Status(status) => status.to_string(),
                CallOutcome::Timeout => "timeout".to_owned(),
                CallOutcome::Failed => "failed".to_owned(),
            },
        };
        let series = CallSeries {
            endpoint,
            outcome,
            calls: self.calendly_calls.get_or_create(&labels).clone(),
            seconds: self.calendly_seconds.get_or_create(&labels).clone(),
        };
        count(&series);
        let mut known = self
            .call_series
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        if !known.iter().any(these) {
            known.push(series);
        }
    }

    fn refused_for_budget(&self, _endpoint: &'static str) {
        self.freshness.budget_refusal();
    }
}

/// Middleware: counts and times every request under its route's pattern and final status.
pub async fn record(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let metrics = request.app_data::<web::Data<Arc<Metrics>>>().cloned();
    let method = request.method().clone();
    let started = Instant::now();
    let response = next.call(request).await?;
    if let Some(metrics) = metrics {
        metrics.observe_request(
            &method,
            response.request().match_pattern(),
            response.status().as_u16(),
            started.elapsed(),
        );
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_are_rendered_with_their_labels() {
        let metrics = Metrics::new();
        metrics.observe_request(
            &Method::GET,
            Some("/calendly/user".into()),
            200,
            Duration::from_millis(3),
        );
        metrics.observe_request(&Method::GET, None, 404, Duration::from_millis(1));
        metrics.observe(
            "/users/me",
            CallOutcome::Status(200),
            Duration::from_millis(20),
        );
        metrics.observe(
            "/event_types",
            CallOutcome::Timeout,
            Duration::from_secs(10),
        );
        metrics.watch_pool(|| PoolStatus {
            max_size: 8,
            size: 3,
            available: 1,
            waiting: 2,
        });
        let text = metrics.render();
        for line in [
            r#"http_requests_total{method="GET",route="/calendly/user",status="200"} 1"#,
            r#"http_requests_total{method="GET",route="unmatched",status="404"} 1"#,
            r#"http_request_duration_seconds_bucket{le="0.005",method="GET",route="/calendly/user",status="200"} 1"#,
            r#"calendly_calls_total{endpoint="/users/me",status="200"} 1"#,
            r#"calendly_calls_total{endpoint="/event_types",status="timeout"} 1"#,
            r#"db_pool_connections{state="in_use"} 2"#,
            r#"db_pool_connections{state="idle"} 1"#,
            "db_pool_max_connections 8",
            "db_pool_waiting_requests 2",
        ] {
            assert!(text.contains(line), "{line} not in:\n{text}");
        }
    }

    #[test]
    fn every_call_counts_in_its_series_the_first_and_those_after() {
        let metrics = Metrics::new();
        for outcome in [200, 200, 429, 200].map(CallOutcome::Status) {
            metrics.observe("/users/me", outcome, Duration::from_millis(2));
        }
        metrics.observe(
            "/event_types",
            CallOutcome::Failed,
            Duration::from_millis(2),
        );
        let text = metrics.render();
        for line in [
            r#"calendly_calls_total{endpoint="/users/me",status="200"} 3"#,
            r#"calendly_calls_total{endpoint="/users/me",status="429"} 1"#,
            r#"calendly_calls_total{endpoint="/event_types",status="failed"} 1"#,
            r#"calendly_call_duration_seconds_count{endpoint="/users/me",status="200"} 3"#,
        ] {
            assert!(text.contains(line), "{line} not in:\n{text}");
        }
    }

    #[test]
    fn unknown_methods_share_one_label() {
        let method = Method::from_bytes(b"BREW").expect("a token");
        assert_eq!(method_label(&method), "other");
    }
}
