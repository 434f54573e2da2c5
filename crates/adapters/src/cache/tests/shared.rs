//! Two instances' caches on one Redis (a server of the test's own): what one loads the other
//! finds, one load for both, forgetting, TTLs, and a Redis that does not answer.

use std::time::Instant as WallInstant;

use test_support::TestRedis;

use super::times::{self, available_calls};
use super::*;
use crate::shared_tier::SharedTierSettings;

fn week() -> TimeRange {
    range("2030-01-07T00:00:00Z", "2030-01-14T00:00:00Z")
}

/// A tier at `url`, connected (or given up on after two seconds, for a Redis that is not there).
async fn tier(url: &str, prefix: &str) -> SharedTier {
    let tier = SharedTier::new(
        &SharedTierSettings {
            url: url.to_owned(),
            prefix: prefix.to_owned(),
            timeout: Duration::from_secs(2),
            connections: 2,
            ca_file: None,
        },
        None,
    )
    .expect("a Redis URL");
    tier.start();
    let started = WallInstant::now();
    while !tier.is_connected() && started.elapsed() < Duration::from_secs(2) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tier
}

/// An instance: its own cache over its own provider, on `tier`, at 2030-01-01T00:00:00Z.
fn instance(tier: &SharedTier, ttl: Duration, provider: Counting) -> CachedScheduling<Counting> {
    let clock = Arc::new(SetClock(Mutex::new(at("2030-01-01T00:00:00Z"))));
    instance_on(tier, ttl, provider, clock)
}

/// An instance whose clock is `clock`.
fn instance_on(
    tier: &SharedTier,
    ttl: Duration,
    provider: Counting,
    clock: Arc<SetClock>,
) -> CachedScheduling<Counting> {
    ProviderCache::new(settings(ttl), clock, None, Some(tier.clone())).wrap(provider)
}

async fn available(scheduling: &CachedScheduling<Counting>) -> Vec<String> {
    times::available(scheduling, week()).await
}

fn slow(millis: u64) -> Counting {
    Counting {
        delay: Duration::from_millis(millis),
        ..Counting::default()
    }
}

#[tokio::test]
async fn what_one_instance_loaded_the_other_finds_and_both_missing_at_once_make_one_call() {
    let redis = TestRedis::start();
    let tier = tier(&redis.url(), "found:").await;
    let ttl = Duration::from_secs(60);
    let (a, b) = (
        instance(&tier, ttl, slow(200)),
        instance(&tier, ttl, slow(200)),
    );

    let (from_a, from_b) = tokio::join!(available(&a), available(&b));
    assert_eq!(from_a.len(), 7 * 8);
    assert_eq!(from_a, from_b, "byte for byte the same");
    assert_eq!(
        available_calls(&a) + available_calls(&b),
        1,
        "one load for both"
    );

    let types_a = a
        .event_types(&token(), &account("A"))
        .await
        .expect("event types");
    let types_b = b
        .event_types(&token(), &account("A"))
        .await
        .expect("event types");
    assert_eq!(calls(&a) + calls(&b), 1);
    assert_eq!(types_a[0].json.as_bytes(), types_b[0].json.as_bytes());
    assert_eq!(types_b[0].duration_minutes, Some(30));
}

#[tokio::test]
async fn a_load_overtaken_by_forgetting_is_never_shared() {
    let redis = TestRedis::start();
    let tier = tier(&redis.url(), "forgotten:").await;
    let ttl = Duration::from_secs(60);
    let a = instance(&tier, ttl, slow(400));
    let b_cache = ProviderCache::new(
        settings(ttl),
        Arc::new(SetClock(Mutex::new(at("2030-01-01T00:00:00Z")))),
        None,
        Some(tier.clone()),
    );
    let b = b_cache.wrap(Counting::default());
    let forgetting = b_cache.forgetting_shared(Arc::new(b_cache.clone()));

    // A's load begins, B forgets the account's times (a webhook) while it runs.
    let loading = available(&a);
    let forgetting_meanwhile = async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        forgetting.forget_times(&account("A")).await;
    };
    tokio::join!(loading, forgetting_meanwhile);
    assert_eq!(available_calls(&a), 1);

    assert_eq!(available(&b).await.len(), 7 * 8);
    assert_eq!(
        available_calls(&b),
        1,
        "B asked again: A's answer was not shared"
    );
    // What B loaded after the forgetting is shared.
    let c = instance(&tier, ttl, Counting::default());
    available(&c).await;
    assert_eq!(available_calls(&c), 0);
}

#[tokio::test]
async fn a_forgetting_that_could_not_reach_redis_is_made_once_it_answers() {
    let redis = TestRedis::start();
    let tier = tier(&redis.url(), "retried:").await;
    let ttl = Duration::from_secs(60);
    let a = instance(&tier, ttl, Counting::default());
    available(&a).await;
    let b_cache = ProviderCache::new(
        settings(ttl),
        Arc::new(SetClock(Mutex::new(at("2030-01-01T00:00:00Z")))),
        None,
        Some(tier.clone()),
    );
    let forgetting = b_cache.forgetting_shared(Arc::new(b_cache.clone()));

    // Redis frozen past its deadline (2 s here) while B forgets the account's times.
    redis.freeze();
    forgetting.forget_times(&account("A")).await;
    redis.thaw();
    tokio::time::sleep(Duration::from_millis(2500)).await;

    // A third instance does not read A's answer back from Redis: the forgetting was made.
    let c = instance(&tier, ttl, Counting::default());
    assert_eq!(available(&c).await.len(), 7 * 8);
    assert_eq!(
        available_calls(&c),
        1,
        "A's answer, made before, was forgotten"
    );
}

#[tokio::test]
async fn an_answer_asked_before_a_forgetting_heard_of_is_not_read_back_whatever_redis_missed() {
    let redis = TestRedis::start();
    let tier = tier(&redis.url(), "since:").await;
    let ttl = Duration::from_secs(60);
    let clock = Arc::new(SetClock(Mutex::new(at("2030-01-01T00:00:00Z"))));
    let a = instance_on(&tier, ttl, Counting::default(), Arc::clone(&clock));
    available(&a).await;
    // Another instance forgot the account a second later and said so (a notice); the
    // forgetting never reached Redis, which still holds A's answer.
    let b_cache = ProviderCache::new(settings(ttl), clock.clone(), None, Some(tier.clone()));
    let b = b_cache.wrap(Counting::default());
    clock.set("2030-01-01T00:00:01Z");
    b_cache
        .forget_since(&account("A"), false, at("2030-01-01T00:00:01Z"))
        .await;
    assert_eq!(available(&b).await.len(), 7 * 8);
    assert_eq!(available_calls(&b), 1, "A's older answer was not read back");
    // What B asked after the forgetting is shared again.
    let c = instance_on(&tier, ttl, Counting::default(), clock);
    available(&c).await;
    assert_eq!(available_calls(&c), 0);
}

#[tokio::test]
async fn an_answer_past_its_ttl_is_loaded_again_by_one_instance() {
    let redis = TestRedis::start();
    let tier = tier(&redis.url(), "expired:").await;
    let ttl = Duration::from_millis(500);
    let clock = Arc::new(SetClock(Mutex::new(at("2030-01-01T00:00:00Z"))));
    let (a, b) = (
        instance_on(&tier, ttl, slow(100), Arc::clone(&clock)),
        instance_on(&tier, ttl, slow(100), Arc::clone(&clock)),
    );
    available(&a).await;
    available(&b).await;
    assert_eq!(available_calls(&a) + available_calls(&b), 1);
    // Past the TTL for both, in process and in Redis (the hash is still there).
    tokio::time::sleep(Duration::from_millis(600)).await;
    clock.set("2030-01-01T00:00:00.600Z");
    tokio::join!(available(&a), available(&b));
    assert_eq!(
        available_calls(&a) + available_calls(&b),
        2,
        "one reload for both"
    );
}

#[tokio::test]
async fn without_redis_each_instance_answers_alone() {
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let tier = tier(&format!("redis://127.0.0.1:{port}/0"), "absent:").await;
    assert!(!tier.is_connected());
    let ttl = Duration::from_secs(60);
    let (a, b) = (
        instance(&tier, ttl, Counting::default()),
        instance(&tier, ttl, Counting::default()),
    );
    assert_eq!(available(&a).await.len(), 7 * 8);
    assert_eq!(available(&b).await.len(), 7 * 8);
    assert_eq!((available_calls(&a), available_calls(&b)), (1, 1));
    available(&a).await;
    assert_eq!(available_calls(&a), 1, "its own tier still answers");
}

#[tokio::test]
async fn a_load_dropped_half_way_is_let_go_of_at_once() {
    let redis = TestRedis::start();
    let tier = tier(&redis.url(), "dropped:").await;
    let ttl = Duration::from_secs(60);
    let (a, b) = (
        instance(&tier, ttl, slow(30_000)),
        instance(&tier, ttl, slow(0)),
    );
    // A's question holds the load, then is dropped (a client gone) long before its answer.
    let dropped = tokio::time::timeout(Duration::from_millis(300), available(&a)).await;
    assert!(dropped.is_err(), "still loading");
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = WallInstant::now();
    assert_eq!(available(&b).await.len(), 7 * 8);
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "B waited {:?} for a load no one makes",
        started.elapsed()
    );
    assert_eq!(available_calls(&b), 1);
}

#[tokio::test]
async fn a_dead_instances_hold_is_waited_for_no_longer_than_it_counts_as_alive() {
    let redis = TestRedis::start();
    let tier = tier(&redis.url(), "dead:").await;
    let ttl = Duration::from_secs(60);
    let (a, b) = (
        instance(&tier, ttl, slow(30_000)),
        instance(&tier, ttl, slow(0)),
    );
    // A takes the hold and dies with it: its future is never dropped, nor polled again.
    let mut dying = Box::pin(available(&a));
    assert!(
        tokio::time::timeout(Duration::from_millis(300), &mut dying)
            .await
            .is_err()
    );
    std::mem::forget(dying);
    let started = WallInstant::now();
    assert_eq!(available(&b).await.len(), 7 * 8);
    let waited = started.elapsed();
    // The hold lives 5 s (half the longest load), but its instance, which no longer says it
    // is alive, counts as dead 1.5 s after it took the hold: B waits no longer than that.
    assert!(waited < Duration::from_millis(1500), "{waited:?}");
}

#[tokio::test]
async fn a_hold_is_waited_for_while_its_instance_lives_and_not_once_it_died() {
    let redis = TestRedis::start();
    let tier = tier(&redis.url(), "alive:").await;
    let ttl = Duration::from_secs(60);
    let (a, b, c) = (
        instance(&tier, ttl, slow(1800)),
        instance(&tier, ttl, slow(0)),
        instance(&tier, ttl, slow(30_000)),
    );
    // A loads for 1.8 s, saying it is alive: B waits for its answer rather than load.
    let started = WallInstant::now();
    let (from_a, from_b) = tokio::join!(available(&a), async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        available(&b).await
    });
    assert_eq!(from_a, from_b);
    assert_eq!(
        available_calls(&b),
        0,
        "B waited for A, alive past its 1.5 s"
    );
    assert!(started.elapsed() >= Duration::from_millis(1800));

    // C takes the hold of another week and dies with it; 1.6 s later B finds the hold dead
    // and loads at once.
    let other = range("2030-01-14T00:00:00Z", "2030-01-21T00:00:00Z");
    let mut dying = Box::pin(times::available(&c, other));
    assert!(
        tokio::time::timeout(Duration::from_millis(100), &mut dying)
            .await
            .is_err()
    );
    std::mem::forget(dying);
    tokio::time::sleep(Duration::from_millis(1600)).await;
    let started = WallInstant::now();
    assert_eq!(times::available(&b, other).await.len(), 7 * 8);
    assert!(
        started.elapsed() < Duration::from_millis(300),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(available_calls(&b), 1);
}
