//! Calendly's rate limit, followed per Calendly account: every answer says how many calls the
//! account has left (`X-RateLimit-Remaining`) until its window resets (`X-RateLimit-Reset`,
//! seconds). While none are left, calls for the account are refused at once, without reaching
//! Calendly; calls sent meanwhile are counted against what is left, so that concurrent
//! questions cannot overrun it either.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use domain::CalendlyUserUri;
use reqwest::header::HeaderMap;
// tokio's clock, so that the windows can be tested on paused time.
use tokio::time::Instant;

/// Two answers whose resets lie closer than this belong to one window.
const SAME_WINDOW: Duration = Duration::from_secs(2);
/// The wait after a 429 that did not say how long to wait.
const DEFAULT_WAIT: Duration = Duration::from_secs(60);
/// Past this many accounts, those whose windows have reset are dropped.
const PRUNE_ABOVE: usize = 50_000;

/// What one answer said of the account's budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct RateHeaders {
    pub remaining: Option<u32>,
    pub reset: Option<Duration>,
}

impl RateHeaders {
    pub(crate) fn read(headers: &HeaderMap) -> Self {
        let number =
            |name: &str| -> Option<u64> { headers.get(name)?.to_str().ok()?.trim().parse().ok() };
        Self {
            remaining: number("x-ratelimit-remaining")
                .map(|n| u32::try_from(n).unwrap_or(u32::MAX)),
            reset: number("x-ratelimit-reset").map(Duration::from_secs),
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Budget {
    remaining: u32,
    resets_at: Instant,
}

/// The budgets of the accounts the process calls Calendly for. One per process: every HTTP
/// worker's client shares it.
#[derive(Debug, Default)]
pub struct RateBudgets {
    accounts: Mutex<HashMap<CalendlyUserUri, Budget>>,
}

impl RateBudgets {
    fn accounts(&self) -> std::sync::MutexGuard<'_, HashMap<CalendlyUserUri, Budget>> {
        self.accounts.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether a call for `account` may go out now (and if so, it is counted); if not, how
    /// long until the account's window resets.
    pub fn admit(&self, account: &CalendlyUserUri) -> Result<(), Duration> {
        let now = Instant::now();
        let mut accounts = self.accounts();
        let Some(budget) = accounts.get_mut(account) else {
            return Ok(());
        };
        if budget.resets_at <= now {
            accounts.remove(account);
            return Ok(());
        }
        if budget.remaining == 0 {
            return Err(budget.resets_at - now);
        }
        budget.remaining -= 1;
        Ok(())
    }

    /// Takes in what an answer for `account` said of its budget. `limited` when the answer
    /// was Calendly's 429: nothing is left until the reset.
    pub(crate) fn record(&self, account: &CalendlyUserUri, headers: RateHeaders, limited: bool) {
        let now = Instant::now();
        let remaining = if limited { Some(0) } else { headers.remaining };
        let Some(remaining) = remaining else {
            return;
        };
        let reset = match (headers.reset, limited) {
            (Some(reset), _) => reset,
            (None, true) => DEFAULT_WAIT,
            (None, false) => return,
        };
        let heard = Budget {
            remaining,
            resets_at: now + reset,
        };
        let mut accounts = self.accounts();
        if accounts.len() > PRUNE_ABOVE {
            accounts.retain(|_, budget| budget.resets_at > now);
        }
        let budget = accounts.entry(account.clone()).or_insert(heard);
        let same_window = budget.resets_at > now
            && heard.resets_at.saturating_duration_since(budget.resets_at) < SAME_WINDOW;
        if same_window {
            // Answers arrive out of order, and calls sent since are already counted: the
            // lower figure is the truer one.
            budget.remaining = budget.remaining.min(heard.remaining);
            budget.resets_at = budget.resets_at.max(heard.resets_at);
        } else {
            *budget = heard;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(id: &str) -> CalendlyUserUri {
        CalendlyUserUri::parse(format!("https://api.calendly.com/users/{id}")).expect("uri")
    }

    fn said(remaining: u32, reset_secs: u64) -> RateHeaders {
        RateHeaders {
            remaining: Some(remaining),
            reset: Some(Duration::from_secs(reset_secs)),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn an_unknown_account_may_call_and_a_spent_one_waits_for_its_reset() {
        let budgets = RateBudgets::default();
        assert_eq!(budgets.admit(&account("A")), Ok(()));
        budgets.record(&account("A"), said(0, 30), false);
        assert_eq!(budgets.admit(&account("A")), Err(Duration::from_secs(30)));
        assert_eq!(
            budgets.admit(&account("B")),
            Ok(()),
            "another account's is its own"
        );
        tokio::time::advance(Duration::from_secs(20)).await;
        assert_eq!(budgets.admit(&account("A")), Err(Duration::from_secs(10)));
        tokio::time::advance(Duration::from_secs(10)).await;
        assert_eq!(budgets.admit(&account("A")), Ok(()));
    }

    #[tokio::test(start_paused = true)]
    async fn calls_sent_count_against_what_is_left() {
        let budgets = RateBudgets::default();
        budgets.record(&account("A"), said(3, 60), false);
        for _ in 0..3 {
            assert_eq!(budgets.admit(&account("A")), Ok(()));
        }
        assert!(budgets.admit(&account("A")).is_err());
        // A late answer of an earlier call says more was left: the lower count stands.
        budgets.record(&account("A"), said(2, 59), false);
        assert!(budgets.admit(&account("A")).is_err());
    }

    #[tokio::test(start_paused = true)]
    async fn a_new_window_replaces_the_old_and_a_429_spends_it() {
        let budgets = RateBudgets::default();
        budgets.record(&account("A"), said(0, 5), false);
        tokio::time::advance(Duration::from_secs(6)).await;
        budgets.record(&account("A"), said(49, 60), false);
        assert_eq!(budgets.admit(&account("A")), Ok(()));
        budgets.record(&account("A"), RateHeaders::default(), true);
        assert_eq!(
            budgets.admit(&account("A")),
            Err(Duration::from_secs(60)),
            "a 429 without a reset waits a minute"
        );
        // Answers without the headers change nothing.
        budgets.record(&account("B"), RateHeaders::default(), false);
        assert_eq!(budgets.admit(&account("B")), Ok(()));
    }
}
