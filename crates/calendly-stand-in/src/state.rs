//! What the stand-in keeps while it runs, shared by every worker.

use std::time::Duration;

use chrono::TimeDelta;

use crate::booking_limit::BookingLimit;
use crate::counters::Counters;
use crate::grants::OAuth;
use crate::hooks::Hooks;
use crate::rate_limit::RateLimit;
use crate::scheduled::Scheduled;

/// Everything the stand-in knows.
#[derive(Debug)]
pub(crate) struct StandIn {
    pub(crate) latency: Duration,
    pub(crate) event_types: usize,
    pub(crate) slot: TimeDelta,
    pub(crate) calls: Counters,
    pub(crate) oauth: OAuth,
    pub(crate) limit: RateLimit,
    pub(crate) hooks: Hooks,
    pub(crate) scheduled: Scheduled,
    pub(crate) bookings_limit: BookingLimit,
}

/// Waits for `--latency-ms`, as a distant Calendly would.
pub(crate) async fn pause(state: &StandIn) {
    if !state.latency.is_zero() {
        tokio::time::sleep(state.latency).await;
    }
}
