//! Failing fast while Calendly fails: after `failures` calls in a row end in a transport
//! error, a timeout or a 5xx, calls are refused at once for `open_for`; then one trial call is
//! let through, and its outcome closes the circuit again or opens it for another `open_for`.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

// tokio's clock, so that the breaker's pauses can be tested on paused time.
use tokio::time::Instant;

/// One per process: every HTTP worker's Calendly client shares it.
#[derive(Debug)]
pub struct CircuitBreaker {
    failures: u32,
    open_for: Duration,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    failures_in_a_row: u32,
    /// Set while open: calls are refused until then.
    open_until: Option<Instant>,
    /// After `open_until`, when the one call let through to try Calendly again left. A trial
    /// that never reports (its request was dropped) no longer counts after `open_for`.
    trial_since: Option<Instant>,
}

impl CircuitBreaker {
    /// `failures` of 0 never opens the circuit.
    pub fn new(failures: u32, open_for: Duration) -> Self {
        Self {
            failures,
            open_for,
            state: Mutex::new(State::default()),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether a call may go out now; if not, how long until calls are tried again.
    pub fn admit(&self) -> Result<(), Duration> {
        let mut state = self.state();
        let Some(until) = state.open_until else {
            return Ok(());
        };
        let now = Instant::now();
        if now < until {
            return Err(until - now);
        }
        if let Some(since) = state.trial_since {
            let waited = now - since;
            if waited < self.open_for {
                return Err(self.open_for - waited);
            }
        }
        state.trial_since = Some(now);
        Ok(())
    }

    /// Calendly answered (any status below 500).
    pub fn succeeded(&self) {
        let mut state = self.state();
        if state.open_until.is_some() {
            tracing::info!("Calendly answers again; calls resume");
        }
        *state = State::default();
    }

    /// A transport error, a timeout or a 5xx.
    pub fn failed(&self) {
        let mut state = self.state();
        state.failures_in_a_row = state.failures_in_a_row.saturating_add(1);
        let was_trial = state.trial_since.take().is_some();
        if self.failures > 0 && (was_trial || state.failures_in_a_row >= self.failures) {
            if state.open_until.is_none() || was_trial {
                tracing::warn!(
                    failures_in_a_row = state.failures_in_a_row,
                    open_for_ms = u64::try_from(self.open_for.as_millis()).unwrap_or(u64::MAX),
                    "Calendly keeps failing; calls are refused at once for a while"
                );
            }
            state.open_until = Some(Instant::now() + self.open_for);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn opens_after_the_failures_in_a_row_and_not_before() {
        let circuit = CircuitBreaker::new(3, Duration::from_secs(60));
        circuit.failed();
        circuit.failed();
        assert!(circuit.admit().is_ok());
        circuit.failed();
        assert_eq!(circuit.admit(), Err(Duration::from_secs(60)));
        tokio::time::advance(Duration::from_secs(59)).await;
        assert_eq!(circuit.admit(), Err(Duration::from_secs(1)));
    }

    #[test]
    fn a_success_resets_the_count() {
        let circuit = CircuitBreaker::new(2, Duration::from_secs(60));
        circuit.failed();
        circuit.succeeded();
        circuit.failed();
        assert!(circuit.admit().is_ok());
    }

    #[tokio::test(start_paused = true)]
    async fn after_the_pause_one_trial_decides() {
        let circuit = CircuitBreaker::new(1, Duration::from_millis(20));
        circuit.failed();
        assert!(circuit.admit().is_err());
        tokio::time::advance(Duration::from_millis(20)).await;
        assert!(circuit.admit().is_ok(), "the trial");
        assert!(circuit.admit().is_err(), "only one trial at a time");
        circuit.failed();
        assert_eq!(
            circuit.admit(),
            Err(Duration::from_millis(20)),
            "a failed trial opens it again"
        );
        tokio::time::advance(Duration::from_millis(20)).await;
        assert!(circuit.admit().is_ok());
        circuit.succeeded();
        assert!(circuit.admit().is_ok());
        assert!(circuit.admit().is_ok(), "closed: every call goes out");
    }

    #[tokio::test(start_paused = true)]
    async fn a_trial_that_never_reports_expires() {
        let circuit = CircuitBreaker::new(1, Duration::from_millis(100));
        circuit.failed();
        tokio::time::advance(Duration::from_millis(100)).await;
        assert!(circuit.admit().is_ok(), "the trial, which never reports");
        tokio::time::advance(Duration::from_millis(99)).await;
        assert_eq!(circuit.admit(), Err(Duration::from_millis(1)));
        tokio::time::advance(Duration::from_millis(1)).await;
        assert!(circuit.admit().is_ok(), "another trial");
    }

    #[test]
    fn zero_failures_never_opens() {
        let circuit = CircuitBreaker::new(0, Duration::from_secs(60));
        for _ in 0..100 {
            circuit.failed();
        }
        assert!(circuit.admit().is_ok());
    }
}
