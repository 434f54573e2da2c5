//! The one retry of a failed call: when, and after what pause.

use std::time::Duration;

use tokio::time::Instant;

/// The pause before the one retry: this, plus up to as much again at random.
pub(crate) const RETRY_BACKOFF: Duration = Duration::from_millis(100);
/// A retry is made only if at least this much of the deadline would be left for it.
const MIN_RETRY_TIME: Duration = Duration::from_millis(250);

/// The pause before a retry at `now`, if the retry would still have [`MIN_RETRY_TIME`] of the
/// call's deadline after it.
pub(crate) fn retry_pause(deadline: Instant, now: Instant, pause: Duration) -> Option<Duration> {
    (deadline.saturating_duration_since(now) > pause + MIN_RETRY_TIME).then_some(pause)
}

/// `base` plus up to as much again: retries from many requests do not arrive together. The
/// randomness need not be good, so it comes from the clock.
pub(crate) fn jittered(base: Duration) -> Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    base + base.mul_f64(f64::from(nanos % 1000) / 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_retry_is_made_only_with_enough_of_the_deadline_left() {
        let pause = Duration::from_millis(150);
        let deadline = Instant::now() + Duration::from_secs(1);
        assert_eq!(retry_pause(deadline, Instant::now(), pause), Some(pause));
        tokio::time::advance(Duration::from_millis(599)).await;
        assert_eq!(retry_pause(deadline, Instant::now(), pause), Some(pause));
        tokio::time::advance(Duration::from_millis(1)).await;
        assert_eq!(
            retry_pause(deadline, Instant::now(), pause),
            None,
            "400 ms left"
        );
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(
            retry_pause(deadline, Instant::now(), pause),
            None,
            "past it"
        );
    }

    #[test]
    fn the_pause_is_jittered_between_once_and_twice_the_base() {
        for _ in 0..100 {
            let pause = jittered(RETRY_BACKOFF);
            assert!(
                pause >= RETRY_BACKOFF && pause < RETRY_BACKOFF * 2,
                "{pause:?}"
            );
        }
    }
}
