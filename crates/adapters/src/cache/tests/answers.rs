//! Whole answers kept: given exactly while the event types and windows they were made from
//! would be.

use domain::{AccountCache as _, AskedTimes, KeptAnswers as _, Recall};

use super::times::available_calls;
use super::*;

fn week() -> TimeRange {
    range("2030-01-07T00:00:00Z", "2030-01-14T00:00:00Z")
}

/// What a question about `account`'s first event type over `asked` finds, as the use case asks
/// it: the answer kept, or else one made (from the cache, or the provider) and handed over.
/// `true` when it was kept.
async fn ask(
    cache: &ProviderCache,
    scheduling: &CachedScheduling<Counting>,
    asked: TimeRange,
) -> (bool, usize) {
    let account = account("A");
    let question = AskedTimes {
        account: &account,
        event_type: None,
        range: asked,
    };
    let keep = match cache.recall(&question) {
        Recall::Kept(times) => return (true, times.len()),
        Recall::Keep(keep) => Some(keep),
        Recall::Nothing => None,
    };
    let types = scheduling
        .event_types(&token(), &account)
        .await
        .expect("event types");
    let chosen = types[0].uri.clone();
    let answer = scheduling
        .available_times(&token(), &account, &chosen, asked)
        .await
        .expect("available times");
    if let Some(keep) = keep {
        keep.keep(&chosen, asked, &answer).await;
    }
    (false, answer.len())
}

/// Asks for the week until its answer is kept: loaded, then made from what was kept, then
/// found kept.
async fn keep_week(cache: &ProviderCache, scheduling: &CachedScheduling<Counting>) {
    for _ in 0..2 {
        ask(cache, scheduling, week()).await;
    }
    assert!(kept(cache, scheduling).await, "kept");
}

/// Whether the week's answer is found kept (made and handed over when it is not).
async fn kept(cache: &ProviderCache, scheduling: &CachedScheduling<Counting>) -> bool {
    ask(cache, scheduling, week()).await.0
}

/// What the store says, without asking anything more, of the week's question.
fn recall_week(cache: &ProviderCache) -> Recall {
    let account = account("A");
    cache.recall(&AskedTimes {
        account: &account,
        event_type: None,
        range: week(),
    })
}

#[tokio::test(start_paused = true)]
async fn an_answer_made_from_what_was_kept_before_is_kept_and_given_again() {
    let (cache, scheduling) = cached(Duration::from_secs(600), Counting::default());
    assert!(
        matches!(recall_week(&cache), Recall::Nothing),
        "asked for the first time: no answer will be kept"
    );
    assert_eq!(
        ask(&cache, &scheduling, week()).await,
        (false, 56),
        "loaded: made from windows that were not kept when it began"
    );
    assert_eq!(
        ask(&cache, &scheduling, week()).await,
        (false, 56),
        "made from what was kept"
    );
    assert_eq!(ask(&cache, &scheduling, week()).await, (true, 56), "kept");
    assert_eq!(ask(&cache, &scheduling, week()).await, (true, 56));
    assert_eq!(available_calls(&scheduling), 1);
    assert_eq!(
        scheduling.inner.calls.load(Ordering::SeqCst),
        1,
        "event types once"
    );
    let other = range("2030-01-08T00:00:00Z", "2030-01-09T00:00:00Z");
    assert_eq!(
        ask(&cache, &scheduling, other).await,
        (false, 8),
        "another range is another question"
    );
}

#[tokio::test(start_paused = true)]
async fn forgetting_the_accounts_times_or_everything_drops_its_answers() {
    let (cache, scheduling) = cached(Duration::from_secs(600), Counting::default());
    keep_week(&cache, &scheduling).await;

    cache.forget_times(&account("A")).await;
    assert!(!kept(&cache, &scheduling).await, "forgotten with its times");
    assert_eq!(available_calls(&scheduling), 2);
    ask(&cache, &scheduling, week()).await;
    assert!(kept(&cache, &scheduling).await, "kept again");

    cache.forget(&account("A")).await;
    assert!(
        !kept(&cache, &scheduling).await,
        "forgotten with everything"
    );
    assert_eq!(
        scheduling.inner.calls.load(Ordering::SeqCst),
        2,
        "event types asked again"
    );
}

#[tokio::test(start_paused = true)]
async fn an_answer_lives_no_longer_than_the_first_window_it_was_made_from() {
    let (cache, scheduling) = cached(Duration::from_secs(60), Counting::default());
    ask(&cache, &scheduling, week()).await;
    tokio::time::advance(Duration::from_secs(50)).await;
    ask(&cache, &scheduling, week()).await;
    assert!(
        kept(&cache, &scheduling).await,
        "kept, made 50 s into the window's life"
    );
    tokio::time::advance(Duration::from_secs(9)).await;
    assert!(kept(&cache, &scheduling).await, "59 s into it");
    tokio::time::advance(Duration::from_secs(2)).await;
    assert!(
        !kept(&cache, &scheduling).await,
        "the window expired 60 s after it was stored, and the answer with it"
    );
    assert_eq!(available_calls(&scheduling), 2, "the window asked again");
}

#[tokio::test(start_paused = true)]
async fn while_forgettings_are_not_heard_no_answer_is_kept_or_given() {
    let (cache, scheduling) = cached(Duration::from_secs(600), Counting::default());
    keep_week(&cache, &scheduling).await;

    cache.hearing(false).await;
    assert!(matches!(recall_week(&cache), Recall::Nothing));

    cache.hearing(true).await;
    assert!(
        !kept(&cache, &scheduling).await,
        "listening again: what was kept before is not given"
    );
}

#[tokio::test(start_paused = true)]
async fn without_a_cache_of_times_no_answer_is_kept() {
    let (cache, _) = cached(Duration::ZERO, Counting::default());
    assert!(matches!(recall_week(&cache), Recall::Nothing));
}

#[tokio::test(start_paused = true)]
async fn the_answers_kept_are_bounded() {
    let mut settings = settings(Duration::from_secs(600));
    settings.availability_max_windows = 32;
    let (cache, scheduling, _) = cached_with(settings, Counting::default());
    for day in 1..=28 {
        let asked = range(
            &format!("2030-01-{day:02}T00:00:00Z"),
            &format!("2030-01-{:02}T00:00:00Z", day + 1),
        );
        for _ in 0..2 {
            ask(&cache, &scheduling, asked).await;
        }
    }
    let kept = cache.stores.answers.as_ref().expect("answers").len();
    assert!(kept > 0 && kept <= 32, "{kept} answers kept");
}

#[tokio::test(start_paused = true)]
async fn a_question_asked_once_keeps_no_answer() {
    let (cache, scheduling) = cached(Duration::from_secs(600), Counting::default());
    keep_week(&cache, &scheduling).await;
    let answers = || cache.stores.answers.as_ref().expect("answers").len();
    assert_eq!(answers(), 1);
    // A range that moves with every request, all within the week kept: each asked once.
    for minute in 0..30 {
        let asked = TimeRange::new(
            at("2030-01-07T08:00:00Z") + TimeDelta::minutes(minute),
            at("2030-01-14T00:00:00Z"),
        )
        .expect("range");
        assert!(!ask(&cache, &scheduling, asked).await.0);
    }
    assert_eq!(answers(), 1, "none kept for questions asked once");
    assert_eq!(
        available_calls(&scheduling),
        1,
        "all answered from the week kept"
    );
}
