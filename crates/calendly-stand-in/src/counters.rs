//! The calls the stand-in counts, for `/stats`.

use std::sync::atomic::{AtomicU64, Ordering};

/// Calls received by each API endpoint.
#[derive(Debug, Default)]
pub struct Counters {
    pub users_me: AtomicU64,
    pub event_types: AtomicU64,
    pub available_times: AtomicU64,
    pub busy_times: AtomicU64,
    pub availability_schedules: AtomicU64,
    /// Calls refused with 403 for a scope the token was not granted.
    pub scope_refusals: AtomicU64,
    /// `GET /webhook_subscriptions/{uuid}` calls.
    pub subscription_reads: AtomicU64,
    /// `POST /invitees` calls, and the invitees they made (bookings).
    pub invitee_posts: AtomicU64,
    pub invitees_created: AtomicU64,
    /// Bookings still to be answered late (`POST /admin/cut_booking_answers`): made, then
    /// answered after `late_answer_ms`, past the caller's deadline.
    pub late_answers: AtomicU64,
    pub late_answer_ms: AtomicU64,
    /// `GET /event_type_available_times` calls being answered, and the most at once.
    pub available_at_once: AtOnce,
}

/// Calls being answered now, and the most there were at once.
#[derive(Debug, Default)]
pub struct AtOnce {
    now: AtomicU64,
    pub(crate) most: AtomicU64,
}

impl AtOnce {
    /// A call begins; it ends when what this returns is dropped.
    pub fn enter(&self) -> Entered<'_> {
        let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.most.fetch_max(now, Ordering::SeqCst);
        Entered(self)
    }
}

/// One call being answered.
pub struct Entered<'a>(&'a AtOnce);

impl Drop for Entered<'_> {
    fn drop(&mut self) {
        self.0.now.fetch_sub(1, Ordering::SeqCst);
    }
}
