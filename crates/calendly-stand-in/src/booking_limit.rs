//! Calendly's limits on `POST /invitees`, apart from the general one: per user, so many a
//! minute, an hour and a day (paid plans: 10, 50, 100). Its answers carry their own
//! `X-RateLimit-*` headers: the tightest window's.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// The windows, each with its length and its limit.
const WINDOWS: [Duration; 3] = [
    Duration::from_secs(60),
    Duration::from_secs(3600),
    Duration::from_secs(86_400),
];

#[derive(Debug)]
pub(crate) struct BookingLimit {
    /// Bookings allowed per minute, hour and day.
    pub(crate) limits: [u32; 3],
    /// Each user's windows: when each began, and the bookings in it.
    windows: Mutex<HashMap<String, [(Instant, u32); 3]>>,
}

/// What a booking attempt was told: allowed or not, and the headers to answer with.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Counted {
    pub(crate) allowed: bool,
    pub(crate) limit: u32,
    pub(crate) remaining: u32,
    pub(crate) reset_secs: u64,
}

impl BookingLimit {
    pub(crate) fn new(limits: [u32; 3]) -> Self {
        Self {
            limits,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Counts a booking attempt of `user` when every window has room; the headers of the
    /// tightest window either way.
    pub(crate) fn count(&self, user: &str) -> Counted {
        let now = Instant::now();
        let mut windows = self.windows.lock().unwrap_or_else(PoisonError::into_inner);
        let user_windows = windows.entry(user.to_owned()).or_insert([(now, 0); 3]);
        for (window, length) in user_windows.iter_mut().zip(WINDOWS) {
            if now.duration_since(window.0) >= length {
                *window = (now, 0);
            }
        }
        let allowed = user_windows
            .iter()
            .zip(self.limits)
            .all(|((_, used), limit)| *used < limit);
        if allowed {
            for window in user_windows.iter_mut() {
                window.1 += 1;
            }
        }
        // The window with the fewest left, and of those the one resetting last.
        let tightest = (0..3)
            .min_by_key(|at| {
                (
                    self.limits[*at].saturating_sub(user_windows[*at].1),
                    std::cmp::Reverse(WINDOWS[*at]),
                )
            })
            .unwrap_or(0);
        let (start, used) = user_windows[tightest];
        let left = WINDOWS[tightest].saturating_sub(now.duration_since(start));
        Counted {
            allowed,
            limit: self.limits[tightest],
            remaining: self.limits[tightest].saturating_sub(used),
            reset_secs: left.as_secs() + u64::from(left.subsec_nanos() > 0),
        }
    }

    /// Forgets every window (`DELETE /stats`).
    pub(crate) fn reset(&self) {
        self.windows
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}
