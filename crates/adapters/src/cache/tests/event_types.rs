//! Event types, remembered by account.

use super::*;

#[tokio::test]
async fn a_second_question_is_answered_from_memory() {
    let (_, scheduling) = cached(Duration::from_secs(60), Counting::default());
    for _ in 0..3 {
        assert_eq!(
            first_uri(&scheduling, "A").await,
            "https://api.calendly.com/users/A/event"
        );
    }
    assert_eq!(calls(&scheduling), 1);
}

#[tokio::test(start_paused = true)]
async fn concurrent_misses_for_one_account_share_one_call() {
    let provider = Counting {
        delay: Duration::from_millis(100),
        ..Counting::default()
    };
    let (_, scheduling) = cached(Duration::from_secs(60), provider);
    let scheduling = Arc::new(scheduling);
    let questions = (0..32).map(|_| {
        let scheduling = Arc::clone(&scheduling);
        tokio::spawn(async move { first_uri(&scheduling, "A").await })
    });
    for answer in futures::future::join_all(questions).await {
        assert_eq!(
            answer.expect("task"),
            "https://api.calendly.com/users/A/event"
        );
    }
    assert_eq!(calls(&scheduling), 1);
}

#[tokio::test(start_paused = true)]
async fn a_question_about_another_account_never_joins_a_load_in_flight() {
    let provider = Counting {
        delay: Duration::from_millis(100),
        ..Counting::default()
    };
    let (_, scheduling) = cached(Duration::from_secs(60), provider);
    let (a, b) = tokio::join!(first_uri(&scheduling, "A"), first_uri(&scheduling, "B"));
    assert_eq!(a, "https://api.calendly.com/users/A/event");
    assert_eq!(b, "https://api.calendly.com/users/B/event");
    assert_eq!(calls(&scheduling), 2);
}

#[tokio::test]
async fn forgetting_an_account_asks_again_for_it_only() {
    let (cache, scheduling) = cached(Duration::from_secs(60), Counting::default());
    first_uri(&scheduling, "A").await;
    first_uri(&scheduling, "B").await;
    cache.forget(&account("A")).await;
    first_uri(&scheduling, "A").await;
    first_uri(&scheduling, "B").await;
    assert_eq!(calls(&scheduling), 3);
}

#[tokio::test]
async fn entries_expire_after_the_ttl() {
    let (_, scheduling) = cached(Duration::from_millis(100), Counting::default());
    first_uri(&scheduling, "A").await;
    // moka reads its own clock, not tokio's: this one test waits in real time.
    tokio::time::sleep(Duration::from_millis(250)).await;
    first_uri(&scheduling, "A").await;
    assert_eq!(calls(&scheduling), 2);
}

#[tokio::test]
async fn failures_are_passed_on_and_not_remembered() {
    let provider = Counting {
        fail: true,
        ..Counting::default()
    };
    let (_, scheduling) = cached(Duration::from_secs(60), provider);
    for _ in 0..2 {
        let error = scheduling
            .event_types(&token(), &account("A"))
            .await
            .expect_err("failed");
        assert!(matches!(error, ProviderError::Timeout));
    }
    assert_eq!(calls(&scheduling), 2);
}

#[tokio::test]
async fn a_zero_ttl_remembers_nothing() {
    let (_, scheduling) = cached(Duration::ZERO, Counting::default());
    first_uri(&scheduling, "A").await;
    first_uri(&scheduling, "A").await;
    assert_eq!(calls(&scheduling), 2);
}

#[tokio::test]
async fn the_front_keeps_only_what_the_store_keeps() {
    // Room for two accounts' event types.
    let mut small = settings(Duration::from_secs(60));
    small.event_types_max_accounts = 2;
    small.event_types_max_bytes = 2 << 16;
    let (cache, scheduling, _) = cached_with(small, Counting::default());
    let ids = ["A", "B", "C", "D", "E", "F"];
    for id in ids {
        first_uri(&scheduling, id).await;
        first_uri(&scheduling, id).await;
    }
    let store = cache.stores.event_types.as_ref().expect("kept");
    store.run_pending_tasks().await;
    let front = &cache.stores.types_front;
    assert!(store.entry_count() <= 2, "{}", store.entry_count());
    let ready = &cache.stores.ready;
    let mut fronted = 0;
    for id in ids {
        let generation = cache.generations(&account(id)).event_types;
        if front.get(&account(id), generation, ready).is_some() {
            fronted += 1;
            assert!(store.contains_key(&(account(id), generation)), "{id}");
        }
    }
    assert_eq!(
        front.len(),
        fronted,
        "the front holds no account the store dropped"
    );
    // A dropped account is asked for again.
    let before = calls(&scheduling);
    for id in ids {
        first_uri(&scheduling, id).await;
    }
    assert!(calls(&scheduling) > before);
}

#[tokio::test]
async fn a_forgotten_account_is_not_served_from_the_front() {
    let (cache, scheduling) = cached(Duration::from_secs(60), Counting::default());
    first_uri(&scheduling, "A").await;
    first_uri(&scheduling, "A").await;
    assert_eq!(cache.stores.types_front.len(), 1);
    cache.forget(&account("A")).await;
    first_uri(&scheduling, "A").await;
    assert_eq!(calls(&scheduling), 2);
    cache.hearing(false).await;
    first_uri(&scheduling, "A").await;
    first_uri(&scheduling, "A").await;
    assert_eq!(
        calls(&scheduling),
        4,
        "not hearing: every look its own generation"
    );
}
