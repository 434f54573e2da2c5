//! TLS to the servers the gateway depends on, as managed PostgreSQL and Redis services require
//! it: the binary against a PostgreSQL that takes TLS connections only (`sslmode=verify-full`,
//! a CA made by the test) and a Redis over `rediss://`, and what a wrong certificate does.

use std::time::{Duration, Instant};

use serde_json::json;
use test_support::{PgCluster, TestCa, TestRedis};

use crate::binary::{access_token, development_env, env_with, gateway, serve};
use crate::helpers::{get_json, http_client, json_of, metric_at, next_week_check};
use crate::stand_in::StandIn;

/// `url` with `sslmode=verify-full` and the CA's file as `sslrootcert`.
fn verify_full(url: &str, ca: &TestCa) -> String {
    format!(
        "{url}?sslmode=verify-full&sslrootcert={}",
        ca.pem_file().display()
    )
}

/// Waits until `series` at `gateway` is `wanted`, for at most 10 s.
async fn metric_becomes(gateway: &str, series: &str, wanted: u64) -> u64 {
    let started = Instant::now();
    loop {
        let value = metric_at(gateway, series).await;
        if value == wanted || started.elapsed() > Duration::from_secs(10) {
            return value;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_serves_on_postgresql_at_verify_full_and_redis_over_rediss() {
    let ca = TestCa::new("calendly-gateway test CA");
    let server = ca.issue(&["127.0.0.1"]);
    let cluster = PgCluster::start_with_tls(&server);
    let redis = TestRedis::start_with_tls(&server);
    let stand_in = StandIn::start(&[]);
    let database_url = verify_full(&cluster.url(), &ca);
    let ca_file = ca.pem_file().display().to_string();
    let redis_url = redis.url();
    let env = env_with(
        &development_env(&database_url, &stand_in.url),
        &[
            ("APP__CACHE__REDIS_URL", &redis_url),
            ("APP__CACHE__REDIS_CA_FILE", &ca_file),
            ("APP__CACHE__REDIS_TIMEOUT_MS", "1000"),
        ],
    );
    let (_server, address, _log) = serve(&env);
    let bearer = access_token(&env, "tls-user");

    let ready = http_client()
        .get(format!("http://{address}/readyz"))
        .send()
        .await
        .expect("sent");
    assert_eq!(ready.status(), 200);
    let (status, connection) = json_of(
        http_client()
            .put(format!("http://{address}/calendly/connection"))
            .bearer_auth(&bearer)
            .json(&json!({ "personal_access_token": "pat-over-tls" }))
            .send()
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!(status, 200, "{connection}");
    for _ in 0..3 {
        let (status, body) = get_json(&address, &bearer, &next_week_check()).await;
        assert_eq!(status, 200, "{body}");
    }
    // Redis shared the answer (over TLS), and the listener kept the connection in memory
    // (its notices come over TLS too).
    assert_eq!(metric_becomes(&address, "cache_shared_up", 1).await, 1);
    let hits = metric_at(
        &address,
        r#"cache_lookups_total{kind="connections",result="hit"}"#,
    )
    .await;
    assert!(hits > 0, "connections served from memory: {hits}");
    assert_eq!(stand_in.stats().await["event_type_available_times"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgresql_certificate_naming_another_host_is_refused_at_start_and_named() {
    let ca = TestCa::new("calendly-gateway test CA");
    let cluster = PgCluster::start_with_tls(&ca.issue(&["elsewhere.example"]));
    let database_url = verify_full(&cluster.url(), &ca);
    let env = development_env(&database_url, "http://127.0.0.1:9");
    let output = gateway(&["serve"], &env).output().expect("runs");
    assert!(!output.status.success());
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        said.contains("certificate") && said.contains("elsewhere.example"),
        "{said}"
    );

    // Signed by a CA it does not trust: refused too.
    let other = TestCa::new("another CA");
    let env = development_env(&database_url, "http://127.0.0.1:9");
    let strange = PgCluster::start_with_tls(&other.issue(&["127.0.0.1"]));
    let strange_url = verify_full(&strange.url(), &ca);
    let env = env_with(&env, &[("APP__DATABASE__URL", &strange_url)]);
    let output = gateway(&["serve"], &env).output().expect("runs");
    assert!(!output.status.success());
    let said = String::from_utf8_lossy(&output.stderr).into_owned()
        + &String::from_utf8_lossy(&output.stdout);
    assert!(
        said.contains("UnknownIssuer") || said.contains("unknown issuer"),
        "{said}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_with_an_untrusted_certificate_is_refused_named_and_the_gateway_serves_alone() {
    let trusted = TestCa::new("calendly-gateway test CA");
    let untrusted = TestCa::new("someone else's CA");
    let redis = TestRedis::start_with_tls(&untrusted.issue(&["127.0.0.1"]));
    let stand_in = StandIn::start(&[]);
    let db = test_support::TestSqliteFile::create();
    let database_url = db.url();
    let ca_file = trusted.pem_file().display().to_string();
    let redis_url = redis.url();
    let env = env_with(
        &development_env(&database_url, &stand_in.url),
        &[
            ("APP__CACHE__REDIS_URL", &redis_url),
            ("APP__CACHE__REDIS_CA_FILE", &ca_file),
        ],
    );
    let (_server, address, log) = serve(&env);
    let line = crate::binary::log_line_with(&log, &["shared cache", "certificate"]);
    assert!(
        line.contains("UnknownIssuer") || line.contains("unknown issuer"),
        "{line}"
    );
    let bearer = access_token(&env, "alone");
    let connected = http_client()
        .put(format!("http://{address}/calendly/connection"))
        .bearer_auth(&bearer)
        .json(&json!({ "personal_access_token": "pat-alone" }))
        .send()
        .await
        .expect("sent");
    assert_eq!(connected.status(), 200);
    for _ in 0..3 {
        assert_eq!(get_json(&address, &bearer, &next_week_check()).await.0, 200);
    }
    assert_eq!(
        stand_in.stats().await["event_type_available_times"],
        1,
        "served from its own cache"
    );
    assert_eq!(metric_at(&address, "cache_shared_up").await, 0);
}
