//! What one process knows of token renewals: whose renewal runs, and whose token call failed
//! lately.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, TimeDelta, Utc};

use crate::model::UserId;

/// A minute over Calendly's 8 token calls per user a minute.
pub const TOKEN_CALL_SPACING: TimeDelta = TimeDelta::milliseconds(7_500);

/// What one process knows of renewals in flight and of token calls that failed, shared by
/// every [`SchedulingService`] of the process.
#[derive(Default)]
pub struct Renewals {
    /// One lock per user whose renewal is running or awaited; removed when no one holds it.
    turns: Mutex<HashMap<UserId, Arc<futures::lock::Mutex<()>>>>,
    /// When a token call for the user last failed, for those within the spacing.
    failures: Mutex<HashMap<UserId, DateTime<Utc>>>,
}

impl fmt::Debug for Renewals {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Renewals").finish_non_exhaustive()
    }
}

impl Renewals {
    /// Runs `renew` for `user` once no other renewal of the user's runs in this process.
    pub(super) async fn one_at_a_time<T>(
        &self,
        user: &UserId,
        renew: impl Future<Output = T>,
    ) -> T {
        let turn = Arc::clone(
            self.turns
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .entry(user.clone())
                .or_default(),
        );
        let outcome = {
            let _held = turn.lock().await;
            renew.await
        };
        let mut turns = self.turns.lock().unwrap_or_else(PoisonError::into_inner);
        // Two references left: the map's and this one; no one else waits.
        if Arc::strong_count(&turn) == 2 {
            turns.remove(user);
        }
        outcome
    }

    /// How long until the process may make a token call for `user` again, if it may not now.
    pub(super) fn waiting(&self, user: &UserId, now: DateTime<Utc>) -> Option<TimeDelta> {
        let failures = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
        let failed_at = failures.get(user)?;
        let wait = *failed_at + TOKEN_CALL_SPACING - now;
        (wait > TimeDelta::zero()).then_some(wait)
    }

    pub(super) fn failed(&self, user: &UserId, now: DateTime<Utc>) {
        let mut failures = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
        failures.retain(|_, at| now - *at < TOKEN_CALL_SPACING);
        failures.insert(user.clone(), now);
    }
}
