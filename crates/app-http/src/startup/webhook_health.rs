//! Webhook health: Calendly disables a subscription after a day of failed deliveries and tells
//! no one. Every connection's subscription is looked at, at Calendly, at least once each
//! `webhooks.check_interval_secs`, and made again when disabled or gone.
//!
//! The checks are spread over the interval: every tick (a hundredth of the interval, from one
//! second to a minute) takes its share of the connections, those most overdue first. Which
//! connection is due is kept in the database, and a claim moves it past the interval, so each
//! is looked at by one instance however many run. A check's calls go through the account's
//! rate budget like any other: while it is spent the check fails at once, without a call, and
//! the connection waits for the next interval.

use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeDelta, Utc};
use domain::{SchedulingService, WebhookChecks};

/// The tick for `interval`: a hundredth of it, from one second to a minute.
fn tick(interval: Duration) -> Duration {
    (interval / 100).clamp(Duration::from_secs(1), Duration::from_secs(60))
}

/// How many of `watched` connections each tick takes so that all are looked at within
/// `interval`: at least one.
fn share(watched: u64, tick: Duration, interval: Duration) -> u32 {
    let ticks = (interval.as_secs_f64() / tick.as_secs_f64()).max(1.0);
    #[allow(
        clippy::cast_precision_loss,
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss
    )]
    let share = (watched as f64 / ticks).ceil() as u64;
    u32::try_from(share.max(1)).unwrap_or(u32::MAX)
}

/// Looks at the connections' subscriptions, a share each tick, for as long as the process runs.
pub(super) async fn run(
    service: SchedulingService,
    checks: Arc<dyn WebhookChecks>,
    interval: Duration,
) {
    let tick = tick(interval);
    let next_in = TimeDelta::from_std(interval).unwrap_or(TimeDelta::hours(1));
    let mut ticks = tokio::time::interval(tick);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let watched = match checks.watched().await {
            Ok(watched) => watched,
            Err(error) => {
                tracing::debug!(%error, "webhook checks: the database did not answer");
                continue;
            }
        };
        let now = Utc::now();
        let claimed = match checks
            .claim_due(now, now + next_in, share(watched, tick, interval))
            .await
        {
            Ok(claimed) => claimed,
            Err(error) => {
                tracing::debug!(%error, "webhook checks: the database did not answer");
                continue;
            }
        };
        for user_id in claimed {
            if let Err(error) = service.check_webhooks(&user_id).await {
                tracing::warn!(user_id = %user_id, %error, "looking at a webhook subscription failed; it is looked at again next interval");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_tick_takes_its_share_so_that_all_are_looked_at_within_the_interval() {
        let hour = Duration::from_secs(3600);
        assert_eq!(tick(hour), Duration::from_secs(36));
        assert_eq!(tick(Duration::from_secs(10)), Duration::from_secs(1));
        assert_eq!(tick(Duration::from_secs(86_400)), Duration::from_secs(60));
        assert_eq!(share(0, tick(hour), hour), 1);
        assert_eq!(share(100, tick(hour), hour), 1);
        assert_eq!(share(1_000, tick(hour), hour), 10);
        assert_eq!(share(100_001, tick(hour), hour), 1_001);
        // An interval shorter than a tick: everyone each tick.
        assert_eq!(
            share(7, Duration::from_secs(1), Duration::from_millis(500)),
            7
        );
    }
}
