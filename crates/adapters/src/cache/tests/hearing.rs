//! An instance that may have missed the others' forgettings serves nothing it kept itself.

use domain::AccountCache as _;

use super::times::{available, available_calls};
use super::*;

#[tokio::test]
async fn while_forgettings_are_not_heard_every_question_asks_and_after_everything_is_new() {
    let (cache, scheduling) = cached(Duration::from_secs(600), Counting::default());
    let week = range("2030-01-07T00:00:00Z", "2030-01-14T00:00:00Z");
    available(&scheduling, week).await;
    available(&scheduling, week).await;
    assert_eq!(available_calls(&scheduling), 1, "kept");

    cache.hearing(false).await;
    available(&scheduling, week).await;
    available(&scheduling, week).await;
    assert_eq!(
        available_calls(&scheduling),
        3,
        "not listening: nothing kept is served, nothing loaded is kept"
    );

    cache.hearing(true).await;
    available(&scheduling, week).await;
    assert_eq!(
        available_calls(&scheduling),
        4,
        "listening again: what was kept before is forgotten"
    );
    available(&scheduling, week).await;
    assert_eq!(available_calls(&scheduling), 4, "and kept again");
}
