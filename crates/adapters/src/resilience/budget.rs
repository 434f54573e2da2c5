//! Calendly's rate limit, followed per Calendly account: every answer says how many calls the
//! account has left (`X-RateLimit-Remaining`) until its window resets (`X-RateLimit-Reset`,
//! seconds). While none are left, calls for the account are refused at once, without reaching
//! Calendly; calls sent meanwhile are counted against what is left, so that concurrent
//! questions cannot overrun it either.
//!
//! With a shared tier (Redis), the budget of an account is kept there, one for every instance:
//! each call is counted there before it goes out, each answer's figures are taken in there (by
//! one script each, atomic), once fewer than [`SHARED_BELOW`] calls are left: while plenty
//! are, each instance counts in process and Redis is not asked (each answer tells every
//! instance what is left, whoever made the other calls). While the tier does not answer, each
//! instance counts alone.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use domain::CalendlyUserUri;
use redis::Script;
use reqwest::header::HeaderMap;
// tokio's clock, so that the windows can be tested on paused time.
use tokio::time::Instant;

use crate::hashing::HashMap;
use crate::shared_tier::{SharedTier, millis};

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

/// Below this many calls left (by the last answer, less the calls sent since), an account's
/// budget is counted in the shared tier. Above it, calls in flight for one account across all
/// instances when it nears its limit would have to outnumber it to overrun the budget.
const SHARED_BELOW: u32 = 64;

/// Counts a call: `-1` when it may go out, else the milliseconds until the reset.
const ADMIT: &str = r"
local left = redis.call('HGET', KEYS[1], 'r')
if not left then return -1 end
if tonumber(left) > 0 then
  redis.call('HINCRBY', KEYS[1], 'r', -1)
  return -1
end
local wait = redis.call('PTTL', KEYS[1])
if wait < 0 then return -1 end
return math.max(wait, 1)
";

/// Whether ARGV[1] calls fit in what is left: `-1` when they do (or nothing is known), else the
/// milliseconds until the reset. Counts nothing.
const HOLDS: &str = r"
local left = redis.call('HGET', KEYS[1], 'r')
if not left or tonumber(left) >= tonumber(ARGV[1]) then return -1 end
local wait = redis.call('PTTL', KEYS[1])
if wait < 0 then return -1 end
return math.max(wait, 1)
";

/// Takes in what an answer said: ARGV remaining, reset (ms), the nearness of one window (ms).
/// An answer of the window before the one kept (its reset well before) changes nothing: it
/// arrived late.
const RECORD: &str = r"
local wait = redis.call('PTTL', KEYS[1])
local left = redis.call('HGET', KEYS[1], 'r')
local heard, reset, same = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
if left and wait > 0 and reset - wait <= -same then
  return 0
end
if left and wait > 0 and reset - wait < same then
  if heard < tonumber(left) then redis.call('HSET', KEYS[1], 'r', heard) end
  if reset > wait then redis.call('PEXPIRE', KEYS[1], reset) end
else
  redis.call('HSET', KEYS[1], 'r', heard)
  redis.call('PEXPIRE', KEYS[1], reset)
end
return 1
";

#[derive(Debug)]
struct SharedBudgets {
    tier: SharedTier,
    /// What the budgets' keys start with in the tier.
    kind: &'static str,
    admit: Script,
    holds: Script,
    record: Script,
}

/// The budgets of the accounts the process calls Calendly for. One per process: every HTTP
/// worker's client shares it.
#[derive(Debug, Default)]
pub struct RateBudgets {
    accounts: Mutex<HashMap<CalendlyUserUri, Budget>>,
    shared: Option<SharedBudgets>,
}

impl RateBudgets {
    /// Budgets kept in `tier` for every instance (in process while it does not answer).
    pub fn shared(tier: SharedTier) -> Self {
        Self::shared_as(tier, "rate")
    }

    /// As [`Self::shared`], the budgets of one kind of call limited apart (bookings), kept
    /// under keys of `kind`.
    pub fn shared_as(tier: SharedTier, kind: &'static str) -> Self {
        Self {
            accounts: Mutex::default(),
            shared: Some(SharedBudgets {
                tier,
                kind,
                admit: Script::new(ADMIT),
                holds: Script::new(HOLDS),
                record: Script::new(RECORD),
            }),
        }
    }

    /// Whether a call for `account` may go out now (and if so, it is counted); if not, how
    /// long until the account's window resets.
    pub async fn admit(&self, account: &CalendlyUserUri) -> Result<(), Duration> {
        if let Some(shared) = &self.shared
            && !self.plenty_left(account)
        {
            let mut invocation = shared.admit.prepare_invoke();
            invocation.key(shared.tier.key(shared.kind, account.as_str()));
            if let Some(verdict) = shared.tier.run::<i64>("rate_admit", &invocation).await {
                return match u64::try_from(verdict) {
                    Ok(wait) => Err(Duration::from_millis(wait)),
                    Err(_) => Ok(()),
                };
            }
        }
        self.admit_here(account)
    }

    /// Whether what is known to be left of `account`'s budget holds `calls` more calls (none
    /// is counted); if not, how long until the account's window resets.
    pub async fn holds(&self, account: &CalendlyUserUri, calls: u32) -> Result<(), Duration> {
        if let Some(shared) = &self.shared
            && !self.plenty_left(account)
        {
            let mut invocation = shared.holds.prepare_invoke();
            invocation
                .key(shared.tier.key(shared.kind, account.as_str()))
                .arg(calls);
            if let Some(verdict) = shared.tier.run::<i64>("rate_holds", &invocation).await {
                return match u64::try_from(verdict) {
                    Ok(wait) => Err(Duration::from_millis(wait)),
                    Err(_) => Ok(()),
                };
            }
        }
        let now = Instant::now();
        match self.accounts().get(account) {
            Some(budget) if budget.resets_at > now && budget.remaining < calls => {
                Err(budget.resets_at - now)
            }
            _ => Ok(()),
        }
    }

    /// Takes in what an answer for `account` said of its budget. `limited` when the answer
    /// was Calendly's 429: nothing is left until the reset.
    pub(crate) async fn record(
        &self,
        account: &CalendlyUserUri,
        headers: RateHeaders,
        limited: bool,
    ) {
        let Some((remaining, reset)) = heard(headers, limited) else {
            return;
        };
        self.record_here(account, remaining, reset);
        if let Some(shared) = &self.shared
            && remaining < SHARED_BELOW
        {
            let mut invocation = shared.record.prepare_invoke();
            invocation
                .key(shared.tier.key(shared.kind, account.as_str()))
                .arg(remaining)
                .arg(millis(reset))
                .arg(millis(SAME_WINDOW));
            let _: Option<i64> = shared.tier.run("rate_record", &invocation).await;
        }
    }

    fn accounts(&self) -> std::sync::MutexGuard<'_, HashMap<CalendlyUserUri, Budget>> {
        self.accounts.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether this process knows that `account` has at least [`SHARED_BELOW`] calls left.
    fn plenty_left(&self, account: &CalendlyUserUri) -> bool {
        self.accounts().get(account).is_some_and(|budget| {
            budget.resets_at > Instant::now() && budget.remaining >= SHARED_BELOW
        })
    }

    fn admit_here(&self, account: &CalendlyUserUri) -> Result<(), Duration> {
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

    fn record_here(&self, account: &CalendlyUserUri, remaining: u32, reset: Duration) {
        let now = Instant::now();
        let heard = Budget {
            remaining,
            resets_at: now + reset,
        };
        let mut accounts = self.accounts();
        if accounts.len() > PRUNE_ABOVE {
            accounts.retain(|_, budget| budget.resets_at > now);
        }
        // The account's key is copied only when it is new (as usual, it is known).
        let budget = match accounts.get_mut(account) {
            Some(budget) => budget,
            None => accounts.entry(account.clone()).or_insert(heard),
        };
        let current = budget.resets_at > now;
        if current && heard.resets_at + SAME_WINDOW <= budget.resets_at {
            // An answer of the window before, arrived late: the new window's figures stand.
            return;
        }
        let gap = if heard.resets_at > budget.resets_at {
            heard.resets_at - budget.resets_at
        } else {
            budget.resets_at - heard.resets_at
        };
        if current && gap < SAME_WINDOW {
            // Answers arrive out of order, and calls sent since are already counted: the
            // lower figure is the truer one.
            budget.remaining = budget.remaining.min(heard.remaining);
            budget.resets_at = budget.resets_at.max(heard.resets_at);
        } else {
            *budget = heard;
        }
    }
}

/// What an answer said of the budget: calls left and the time to the reset, if it said.
fn heard(headers: RateHeaders, limited: bool) -> Option<(u32, Duration)> {
    let remaining = if limited { 0 } else { headers.remaining? };
    let reset = match (headers.reset, limited) {
        (Some(reset), _) => reset,
        (None, true) => DEFAULT_WAIT,
        (None, false) => return None,
    };
    Some((remaining, reset))
}

#[cfg(test)]
#[path = "budget_tests.rs"]
mod tests;
