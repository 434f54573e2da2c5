//! The rate budget of each account, in process and shared.

use super::*;

fn account(id: &str) -> CalendlyUserUri {
    CalendlyUserUri::parse(format!("https://api.calendly.com/users/{id}")).expect("uri")
}

fn said(remaining: u32, reset_secs: u64) -> RateHeaders {
    RateHeaders {
        remaining: Some(remaining),
        reset: Some(Duration::from_secs(reset_secs)),
    }
}

#[tokio::test(start_paused = true)]
async fn an_unknown_account_may_call_and_a_spent_one_waits_for_its_reset() {
    let budgets = RateBudgets::default();
    assert_eq!(budgets.admit(&account("A")).await, Ok(()));
    budgets.record(&account("A"), said(0, 30), false).await;
    assert_eq!(
        budgets.admit(&account("A")).await,
        Err(Duration::from_secs(30))
    );
    assert_eq!(
        budgets.admit(&account("B")).await,
        Ok(()),
        "another account's is its own"
    );
    tokio::time::advance(Duration::from_secs(20)).await;
    assert_eq!(
        budgets.admit(&account("A")).await,
        Err(Duration::from_secs(10))
    );
    tokio::time::advance(Duration::from_secs(10)).await;
    assert_eq!(budgets.admit(&account("A")).await, Ok(()));
}

#[tokio::test(start_paused = true)]
async fn calls_sent_count_against_what_is_left() {
    let budgets = RateBudgets::default();
    budgets.record(&account("A"), said(3, 60), false).await;
    for _ in 0..3 {
        assert_eq!(budgets.admit(&account("A")).await, Ok(()));
    }
    assert!(budgets.admit(&account("A")).await.is_err());
    // A late answer of an earlier call says more was left: the lower count stands.
    budgets.record(&account("A"), said(2, 59), false).await;
    assert!(budgets.admit(&account("A")).await.is_err());
}

#[tokio::test(start_paused = true)]
async fn a_new_window_replaces_the_old_and_a_429_spends_it() {
    let budgets = RateBudgets::default();
    budgets.record(&account("A"), said(0, 5), false).await;
    tokio::time::advance(Duration::from_secs(6)).await;
    budgets.record(&account("A"), said(49, 60), false).await;
    assert_eq!(budgets.admit(&account("A")).await, Ok(()));
    budgets
        .record(&account("A"), RateHeaders::default(), true)
        .await;
    assert_eq!(
        budgets.admit(&account("A")).await,
        Err(Duration::from_secs(60)),
        "a 429 without a reset waits a minute"
    );
    // Answers without the headers change nothing.
    budgets
        .record(&account("B"), RateHeaders::default(), false)
        .await;
    assert_eq!(budgets.admit(&account("B")).await, Ok(()));
}

#[tokio::test(start_paused = true)]
async fn a_question_is_priced_against_what_is_left_counting_nothing() {
    let budgets = RateBudgets::default();
    assert_eq!(budgets.holds(&account("A"), 500).await, Ok(()), "unknown");
    budgets.record(&account("A"), said(12, 30), false).await;
    assert_eq!(budgets.holds(&account("A"), 12).await, Ok(()));
    let refused = budgets.holds(&account("A"), 13).await;
    assert!(
        matches!(refused, Err(wait) if wait > Duration::from_secs(29)),
        "{refused:?}"
    );
    for _ in 0..12 {
        assert_eq!(
            budgets.admit(&account("A")).await,
            Ok(()),
            "nothing was counted"
        );
    }
    assert!(budgets.holds(&account("A"), 1).await.is_err());
    tokio::time::advance(Duration::from_secs(31)).await;
    assert_eq!(
        budgets.holds(&account("A"), 13).await,
        Ok(()),
        "a new window"
    );
}

#[tokio::test(start_paused = true)]
async fn a_late_answer_of_the_window_before_changes_nothing() {
    let budgets = RateBudgets::default();
    budgets.record(&account("A"), said(0, 5), false).await;
    tokio::time::advance(Duration::from_secs(6)).await;
    budgets.record(&account("A"), said(400, 60), false).await;
    // Sent in the old window, answered now: its reset is near, its count spent.
    budgets.record(&account("A"), said(0, 1), false).await;
    budgets
        .record(
            &account("A"),
            RateHeaders {
                remaining: None,
                reset: Some(Duration::from_secs(1)),
            },
            true,
        )
        .await;
    assert_eq!(budgets.admit(&account("A")).await, Ok(()));
    // Within the same window the lower count still wins.
    budgets.record(&account("A"), said(7, 59), false).await;
    budgets.record(&account("A"), said(9, 60), false).await;
    for _ in 0..7 {
        assert_eq!(budgets.admit(&account("A")).await, Ok(()));
    }
    assert!(budgets.admit(&account("A")).await.is_err());
}

#[tokio::test]
async fn one_budget_for_every_instance_once_few_calls_are_left() {
    let redis = test_support::TestRedis::start();
    let tier = SharedTier::new(
        &crate::shared_tier::SharedTierSettings {
            url: redis.url(),
            prefix: "budget:".into(),
            timeout: Duration::from_secs(2),
            connections: 1,
            ca_file: None,
        },
        None,
    )
    .expect("a Redis URL");
    tier.start();
    while !tier.is_connected() {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let (a, b) = (
        RateBudgets::shared(tier.clone()),
        RateBudgets::shared(tier.clone()),
    );
    a.record(&account("A"), said(3, 60), false).await;
    // B never heard of the account: Redis tells it what A heard, and counts its calls.
    assert_eq!(b.admit(&account("A")).await, Ok(()));
    assert_eq!(b.admit(&account("A")).await, Ok(()));
    assert_eq!(a.admit(&account("A")).await, Ok(()));
    assert!(a.admit(&account("A")).await.is_err());
    assert!(b.admit(&account("A")).await.is_err());

    // A late answer of the window before, heard by B, changes nothing in Redis.
    a.record(&account("L"), said(30, 60), false).await;
    b.record(&account("L"), said(0, 1), false).await;
    assert_eq!(b.admit(&account("L")).await, Ok(()));
    assert_eq!(a.admit(&account("L")).await, Ok(()));

    // Plenty left: each counts in process, and what it knows stands.
    a.record(&account("P"), said(SHARED_BELOW, 60), false).await;
    assert!(a.plenty_left(&account("P")));
    assert_eq!(a.admit(&account("P")).await, Ok(()));
    assert!(
        !a.plenty_left(&account("P")),
        "one call later, Redis counts"
    );
}
