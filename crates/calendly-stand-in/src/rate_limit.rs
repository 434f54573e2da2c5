//! Calls per user a minute, as Calendly counts them.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

pub(crate) const WINDOW: Duration = Duration::from_secs(60);

/// The windows of every user.
#[derive(Debug)]
pub(crate) struct RateLimit {
    pub(crate) per_minute: u32,
    pub(crate) windows: Mutex<HashMap<String, (Instant, u32)>>,
    /// Calls answered 429.
    pub refused: AtomicU64,
}

impl RateLimit {
    pub(crate) fn new(per_minute: u32) -> Self {
        Self {
            per_minute,
            windows: Mutex::new(HashMap::new()),
            refused: AtomicU64::new(0),
        }
    }

    /// Counts a call of `user`: the calls left after it (`None` when over the limit) and the
    /// seconds until the window resets.
    pub(crate) fn count(&self, user: &str) -> (Option<u32>, u64) {
        let now = Instant::now();
        let mut windows = self.windows.lock().unwrap_or_else(PoisonError::into_inner);
        let (start, calls) = windows.entry(user.to_owned()).or_insert((now, 0));
        if now.duration_since(*start) >= WINDOW {
            (*start, *calls) = (now, 0);
        }
        *calls += 1;
        let left = WINDOW.saturating_sub(now.duration_since(*start));
        let reset = left.as_secs() + u64::from(left.subsec_nanos() > 0);
        (self.per_minute.checked_sub(*calls), reset)
    }

    /// Forgets every window (`DELETE /stats`).
    pub(crate) fn reset(&self) {
        self.windows
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
        self.refused.store(0, Ordering::Relaxed);
    }
}
