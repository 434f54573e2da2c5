//! Calendly's per-user rate limit, end to end: the gateway binary against the stand-in's binary
//! at the free plan's 50 calls a minute.

use serde_json::json;
use test_support::TestDatabase;

use crate::binary::{access_token, development_env, env_with, serve};
use crate::helpers::{http_client, next_week_check};
use crate::secrets_in_logs;
use crate::stand_in::StandIn;

/// The gateway on the stand-in at 50 calls a minute, with `cache_ttl`, a user connected with
/// a personal access token: the gateway's address, that user's bearer, and the stand-in.
async fn connected(
    cache_ttl: &str,
    pat: &str,
) -> (crate::binary::Server, String, String, StandIn, TestDatabase) {
    connected_to(&["--rate-limit-per-minute", "50"], cache_ttl, pat).await
}

/// The gateway on a stand-in started with `stand_in_args`, with `cache_ttl`, a user connected
/// with `pat`.
async fn connected_to(
    stand_in_args: &[&str],
    cache_ttl: &str,
    pat: &str,
) -> (crate::binary::Server, String, String, StandIn, TestDatabase) {
    let stand_in = StandIn::start(stand_in_args);
    let db = TestDatabase::create().await;
    let env = env_with(
        &development_env(db.url(), &stand_in.url),
        &[("APP__CACHE__AVAILABILITY_TTL_SECS", cache_ttl)],
    );
    let bearer = access_token(&env, "budget-user");
    let (server, gateway, _log) = serve(&env);
    secrets_in_logs::register_secret(pat);
    let connected = http_client()
        .put(format!("http://{gateway}/calendly/connection"))
        .bearer_auth(&bearer)
        .json(&json!({ "personal_access_token": pat }))
        .send()
        .await
        .expect("sent");
    assert_eq!(connected.status(), 200);
    (server, gateway, bearer, stand_in, db)
}

#[tokio::test]
async fn without_the_cache_200_checks_make_at_most_50_calls_and_never_meet_calendlys_429() {
    let (_server, gateway, bearer, stand_in, _db) = connected("0", "pat-free-plan").await;
    let client = http_client();
    let (mut answered, mut refused) = (0, 0);
    for _ in 0..200 {
        let response = client
            .get(format!("http://{gateway}{}", next_week_check()))
            .bearer_auth(&bearer)
            .send()
            .await
            .expect("sent");
        match response.status().as_u16() {
            200 => answered += 1,
            429 => {
                refused += 1;
                let wait: u64 = response.headers()["retry-after"]
                    .to_str()
                    .expect("text")
                    .parse()
                    .expect("seconds");
                assert!((1..=60).contains(&wait), "Retry-After {wait}");
                let body: serde_json::Value = response.json().await.expect("JSON");
                assert_eq!(body["code"], "calendly_rate_limited");
            }
            other => panic!("status {other}"),
        }
    }
    let stats = stand_in.stats().await;
    assert!(stats["total"] <= 50, "{stats:?}");
    assert_eq!(stats["rate_limited"], 0, "Calendly's own 429 was never met");
    // The connect's /users/me and one event type list, then a call a check.
    assert_eq!(answered, stats["event_type_available_times"]);
    assert!(answered >= 45, "{answered} answered");
    assert_eq!(answered + refused, 200);
}

#[tokio::test]
async fn with_the_cache_200_checks_make_one_availability_call() {
    let (_server, gateway, bearer, stand_in, _db) = connected("30", "pat-cached-plan").await;
    let client = http_client();
    for round in 0..10 {
        let mut checks = tokio::task::JoinSet::new();
        for _ in 0..20 {
            let check = client
                .get(format!("http://{gateway}{}", next_week_check()))
                .bearer_auth(&bearer)
                .send();
            checks.spawn(check);
        }
        for response in checks.join_all().await {
            assert_eq!(response.expect("sent").status(), 200, "round {round}");
        }
    }
    let stats = stand_in.stats().await;
    assert_eq!(stats["event_type_available_times"], 1, "{stats:?}");
    assert_eq!(stats["event_types"], 1, "{stats:?}");
    assert_eq!(stats["rate_limited"], 0);
}

/// `/calendly/slots` over every active event type (ten) for a year from now.
fn year_of_slots() -> String {
    let start = chrono::Utc::now() + chrono::TimeDelta::minutes(5);
    let end = start + chrono::TimeDelta::days(365);
    format!(
        "/calendly/slots?start_time={}&end_time={}",
        start.format("%Y-%m-%dT%H:%M:%SZ"),
        end.format("%Y-%m-%dT%H:%M:%SZ")
    )
}

/// The gateway (cache on) on a stand-in whose users have ten active event types among 13,
/// with `rate_limit` calls a minute and 20 ms a call: its address, a connected user's bearer.
async fn ten_event_types(
    rate_limit: &str,
    pat: &str,
) -> (crate::binary::Server, String, String, StandIn, TestDatabase) {
    let stand_in_args = [
        "--rate-limit-per-minute",
        rate_limit,
        "--event-types",
        "13",
        "--latency-ms",
        "20",
    ];
    connected_to(&stand_in_args, "300", pat).await
}

#[tokio::test]
async fn a_year_of_slots_over_ten_event_types_is_120_calls_four_at_once_then_none() {
    let (_server, gateway, bearer, stand_in, _db) = ten_event_types("500", "pat-year").await;
    let client = http_client();
    let ask = || async {
        client
            .get(format!("http://{gateway}{}", year_of_slots()))
            .bearer_auth(&bearer)
            .send()
            .await
            .expect("sent")
    };
    let answer = ask().await;
    assert_eq!(answer.status(), 200);
    let body: serde_json::Value = answer.json().await.expect("JSON");
    assert!(
        body["days"].as_array().expect("days").len() > 250,
        "a year of days"
    );
    let stats = stand_in.stats().await;
    assert!(
        stats["event_type_available_times"] <= 120,
        "a call of 31 days at most for each event type: {stats:?}"
    );
    assert!(
        stats["event_type_available_times_most_at_once"] <= 4,
        "never more at once than calendly.max_concurrent_calls_per_request: {stats:?}"
    );
    let cold = stats["event_type_available_times"];
    // The same year asked again: every window is kept.
    assert_eq!(ask().await.status(), 200);
    assert_eq!(stand_in.stats().await["event_type_available_times"], cold);
}

#[tokio::test]
async fn a_year_of_slots_the_budget_cannot_hold_is_refused_before_any_call() {
    // 50 a minute: the connection's two calls leave 48, short of the 120 a year costs.
    let (_server, gateway, bearer, stand_in, _db) = ten_event_types("50", "pat-year-free").await;
    let answer = http_client()
        .get(format!("http://{gateway}{}", year_of_slots()))
        .bearer_auth(&bearer)
        .send()
        .await
        .expect("sent");
    assert_eq!(answer.status(), 429);
    let wait: u64 = answer.headers()["retry-after"]
        .to_str()
        .expect("text")
        .parse()
        .expect("seconds");
    assert!((1..=60).contains(&wait), "Retry-After {wait}");
    let stats = stand_in.stats().await;
    assert_eq!(stats["event_type_available_times"], 0, "{stats:?}");
    assert_eq!(stats["rate_limited"], 0);
}
