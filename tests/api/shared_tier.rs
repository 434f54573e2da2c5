//! Gateway processes on one PostgreSQL and one Redis of the test's own (and the Calendly
//! stand-in's binary): what one instance learned from Calendly the others find in Redis; an
//! account's rate budget is one for all of them; with Redis gone every request is still
//! answered, and sharing resumes when it is back.

use std::time::{Duration, Instant};

use serde_json::json;
use test_support::{TestDatabase, TestRedis};

use crate::binary::{access_token, development_env, env_with};
use crate::helpers::{get_json as get, http_client, json_of, metric_at as metric};
use crate::many_instances::{booked_and_gone_everywhere, hooked_and_two_more, instances};
use crate::stand_in::StandIn;
use crate::webhooks_end_to_end::starts;

/// A check of the UTC calendar week `weeks` ahead, Monday to Monday: one window.
fn week_check(weeks: i64) -> String {
    use chrono::Datelike as _;
    let today = chrono::Utc::now().date_naive();
    let monday = today - chrono::TimeDelta::days(i64::from(today.weekday().num_days_from_monday()))
        + chrono::TimeDelta::weeks(weeks);
    format!(
        "/calendly/check-availability?start_time={monday}T00:00:00Z&end_time={}T00:00:00Z",
        monday + chrono::TimeDelta::days(7)
    )
}

async fn connect(gateway: &str, bearer: &str, pat: &str) -> serde_json::Value {
    crate::secrets_in_logs::register_secret(pat);
    let (status, connection) = json_of(
        http_client()
            .put(format!("http://{gateway}/calendly/connection"))
            .bearer_auth(bearer)
            .json(&json!({ "personal_access_token": pat }))
            .send()
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!(status, 200, "{connection}");
    connection
}

#[tokio::test]
async fn three_instances_make_the_calls_of_one_and_a_webhook_to_one_refreshes_all() {
    const PAT: &str = "pat-of-three-sharing-instances";
    let stand_in = StandIn::start(&[]);
    let db = TestDatabase::create().await;
    let redis = TestRedis::start();
    let redis_url = redis.url();
    let base = env_with(
        &development_env(db.url(), &stand_in.url),
        &[
            ("APP__CACHE__REDIS_URL", &redis_url),
            // Generous: two busy cores run the whole suite at once.
            ("APP__CACHE__REDIS_TIMEOUT_MS", "1000"),
            ("APP__CACHE__AVAILABILITY_TTL_SECS", "3600"),
            ("APP__CACHE__EVENT_TYPES_TTL_SECS", "3600"),
        ],
    );
    let [(_a, a), (_b, b), (_c, c)] = hooked_and_two_more(&base);
    let (b, c) = (&b, &c);
    let bearer = access_token(&base, "shared-everywhere");
    let check = week_check(1);

    assert_eq!(connect(&a, &bearer, PAT).await["webhooks"], "active");
    stand_in.reset_stats().await;
    let (status, first) = get(b, &bearer, &check).await;
    assert_eq!(status, 200, "{first}");
    for gateway in [c, &a, b] {
        let (status, answer) = get(gateway, &bearer, &check).await;
        assert_eq!((status, starts(&answer)), (200, starts(&first)));
        let (status, _) = get(gateway, &bearer, "/calendly/user-event-types").await;
        assert_eq!(status, 200);
    }
    let stats = stand_in.stats().await;
    assert_eq!(
        (stats["event_type_available_times"], stats["event_types"]),
        (1, 1),
        "the calls of one instance: {stats:?}"
    );
    assert!(
        metric(
            c,
            r#"cache_shared_lookups_total{kind="available_times",result="hit"}"#
        )
        .await
            >= 1
    );

    // A booking delivered to A: B and C no longer offer the slot, from Redis or their own.
    booked_and_gone_everywhere(&stand_in, &bearer, &starts(&first)[2], &check, &[b, c, &a]).await;
}

#[tokio::test]
async fn the_rate_budget_of_an_account_is_one_for_every_instance() {
    let stand_in = StandIn::start(&["--rate-limit-per-minute", "50"]);
    let db = TestDatabase::create().await;
    let redis = TestRedis::start();
    let redis_url = redis.url();
    let env = env_with(
        &development_env(db.url(), &stand_in.url),
        &[
            ("APP__CACHE__REDIS_URL", &redis_url),
            // Generous: two busy cores run the whole suite at once.
            ("APP__CACHE__REDIS_TIMEOUT_MS", "1000"),
            ("APP__CACHE__AVAILABILITY_TTL_SECS", "0"),
        ],
    );
    let gateways = instances(&env, 3);
    let bearer = access_token(&env, "budget-of-three");
    connect(&gateways[0].1, &bearer, "pat-of-a-shared-budget").await;
    let check = week_check(1);
    // Each instance asks 50 times, the three at once.
    let asking = gateways.iter().map(|(_, gateway)| {
        let (bearer, check) = (&bearer, &check);
        async move {
            let mut statuses = Vec::new();
            for _ in 0..50 {
                statuses.push(get(gateway, bearer, check).await.0);
            }
            statuses
        }
    });
    let statuses: Vec<u16> = futures::future::join_all(asking)
        .await
        .into_iter()
        .flatten()
        .collect();
    let answered = statuses.iter().filter(|s| **s == 200).count();
    let refused = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(answered + refused, 150, "{statuses:?}");
    let stats = stand_in.stats().await;
    assert!(stats["total"] <= 50, "{stats:?}");
    assert_eq!(stats["rate_limited"], 0, "Calendly's own 429 was never met");
    assert!(answered >= 45, "{answered} answered");
}

#[tokio::test]
async fn with_redis_gone_every_request_is_answered_and_sharing_resumes_when_it_is_back() {
    let stand_in = StandIn::start(&[]);
    let db = TestDatabase::create().await;
    let mut redis = TestRedis::start();
    let redis_url = redis.url();
    let env = env_with(
        &development_env(db.url(), &stand_in.url),
        &[
            ("APP__CACHE__REDIS_URL", &redis_url),
            // Generous: two busy cores run the whole suite at once.
            ("APP__CACHE__REDIS_TIMEOUT_MS", "1000"),
            ("APP__CACHE__AVAILABILITY_TTL_SECS", "3600"),
        ],
    );
    let gateways = instances(&env, 2);
    let (a, b) = (&gateways[0].1, &gateways[1].1);
    let bearer = access_token(&env, "through-an-outage");
    connect(a, &bearer, "pat-through-an-outage").await;
    let calls = async || stand_in.stats().await["event_type_available_times"];

    assert_eq!(get(a, &bearer, &week_check(1)).await.0, 200);
    assert_eq!(get(b, &bearer, &week_check(1)).await.0, 200);
    assert_eq!(calls().await, 1, "shared while Redis is up");

    redis.pause();
    for weeks in 2..6 {
        for gateway in [a, b] {
            let (status, answer) = get(gateway, &bearer, &week_check(weeks)).await;
            assert_eq!(status, 200, "{answer}");
            assert!(!starts(&answer).is_empty());
        }
    }
    assert_eq!(calls().await, 1 + 8, "each instance asked Calendly itself");
    for gateway in [a, b] {
        assert_eq!(metric(gateway, "cache_shared_up").await, 0);
        assert!(
            metric(
                gateway,
                r#"cache_shared_failures_total{op="available_times"}"#
            )
            .await
                >= 1
        );
        let (status, _) = get(gateway, &bearer, "/readyz").await;
        assert_eq!(status, 200, "ready without Redis");
    }

    redis.resume();
    let back = Instant::now();
    let mut weeks = 6;
    loop {
        let before = calls().await;
        assert_eq!(get(a, &bearer, &week_check(weeks)).await.0, 200);
        assert_eq!(get(b, &bearer, &week_check(weeks)).await.0, 200);
        if calls().await == before + 1 {
            break;
        }
        assert!(
            back.elapsed() < Duration::from_secs(10),
            "sharing did not resume"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
        weeks += 1;
    }
    eprintln!("sharing resumed {:?} after Redis was back", back.elapsed());
    for gateway in [a, b] {
        assert_eq!(metric(gateway, "cache_shared_up").await, 1);
    }
}
