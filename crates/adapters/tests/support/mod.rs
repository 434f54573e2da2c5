//! What the Calendly client's test binaries share.

use std::sync::Arc;
use std::time::Duration;

use adapters::calendly::{
    CalendlyClient, CalendlyClientSettings, CallObserver, CircuitBreaker, RateBudgets,
};

/// A client of the Calendly at `base_url` (a trailing slash is the client's to drop), with
/// `timeout` a call, `circuit`, `observer` and `budgets`.
pub fn client_with(
    base_url: &str,
    timeout: Duration,
    circuit: Arc<CircuitBreaker>,
    observer: Option<Arc<dyn CallObserver>>,
    budgets: Arc<RateBudgets>,
) -> CalendlyClient {
    CalendlyClient::new(&CalendlyClientSettings {
        api_base_url: format!("{base_url}/"),
        timeout,
        connect_timeout: Duration::from_secs(1),
        max_idle_connections: 8,
        observer,
        circuit,
        budgets,
        booking_budgets: Arc::new(RateBudgets::default()),
    })
    .expect("client")
}

/// A circuit that never opens.
pub fn never_open() -> Arc<CircuitBreaker> {
    Arc::new(CircuitBreaker::new(0, Duration::ZERO))
}
