//! Three gateway processes on one PostgreSQL (and the Calendly stand-in's binary): each keeps
//! connections in memory, and a change through one is seen by the others within a second.

use std::time::{Duration, Instant};

use test_support::TestDatabase;

use crate::binary::{access_token, development_env, serve};
use crate::helpers::{http_client, next_week_check};
use crate::stand_in::StandIn;

async fn status_of(gateway: &str, bearer: &str, path: &str) -> u16 {
    http_client()
        .get(format!("http://{gateway}{path}"))
        .bearer_auth(bearer)
        .send()
        .await
        .expect("sent")
        .status()
        .as_u16()
}

/// The count of `cache_lookups_total{kind="connections",result=…}` at `gateway`.
async fn connection_reads(gateway: &str, result: &str) -> u64 {
    let metrics = http_client()
        .get(format!("http://{gateway}/metrics"))
        .send()
        .await
        .expect("sent")
        .text()
        .await
        .expect("text");
    let series = format!("cache_lookups_total{{kind=\"connections\",result=\"{result}\"}} ");
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(&series))
        .map_or(0, |count| count.trim().parse().expect("a count"))
}

#[tokio::test]
async fn a_disconnect_through_one_instance_reaches_the_others_within_a_second() {
    let stand_in = StandIn::start(&[]);
    let db = TestDatabase::create().await;
    let env = development_env(db.url(), &stand_in.url);
    let (_a, a, _a_log) = serve(&env);
    let (_b, b, _b_log) = serve(&env);
    let (_c, c, _c_log) = serve(&env);
    let bearer = access_token(&env, "42");
    let check = next_week_check();

    let connected = http_client()
        .put(format!("http://{a}/calendly/connection"))
        .bearer_auth(&bearer)
        .json(&serde_json::json!({ "personal_access_token": "pat-of-many-instances" }))
        .send()
        .await
        .expect("sent");
    assert_eq!(connected.status(), 200);
    // Checked through B and C; asked again, the connection comes from memory.
    for gateway in [&b, &c] {
        for _ in 0..3 {
            assert_eq!(status_of(gateway, &bearer, &check).await, 200);
        }
        assert!(
            connection_reads(gateway, "hit").await >= 1,
            "{gateway} kept the connection"
        );
    }

    let disconnected = http_client()
        .delete(format!("http://{c}/calendly/connection"))
        .bearer_auth(&bearer)
        .send()
        .await
        .expect("sent");
    assert_eq!(disconnected.status(), 204);
    let answered = Instant::now();
    for gateway in [&a, &b] {
        while status_of(gateway, &bearer, &check).await != 404 {
            assert!(
                answered.elapsed() < Duration::from_secs(1),
                "{gateway} still answers for the disconnected user"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    eprintln!("every instance answered 404 after {:?}", answered.elapsed());

    // From a second after the disconnect's answer on, no instance calls Calendly for the user.
    tokio::time::sleep(Duration::from_secs(1).saturating_sub(answered.elapsed())).await;
    stand_in.reset_stats().await;
    for gateway in [&a, &b, &c] {
        assert_eq!(status_of(gateway, &bearer, &check).await, 404);
        assert_eq!(
            status_of(gateway, &bearer, "/calendly/user-event-types").await,
            404
        );
    }
    let stats = stand_in.stats().await;
    assert!(stats.values().all(|count| *count == 0), "{stats:?}");
}
