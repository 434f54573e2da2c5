//! Connecting with OAuth through the real binary against the Calendly stand-in (its own binary,
//! `crates/calendly-stand-in`): the whole flow, renewals across expiries, a refused refresh
//! token, revocation, and two instances renewing one connection at once.

use std::time::{Duration, Instant};

use test_support::{TestDatabase, TestSqliteFile};

use crate::binary::{Server, access_token, development_env, env_with, serve};
use crate::helpers::{browser, get_json as get, http_client, json_of, location};
use crate::secrets_in_logs;
use crate::stand_in::StandIn;

pub(crate) const REDIRECT_URI: &str = "https://gateway.example/calendly/oauth/callback";
pub(crate) const RETURN_URL: &str = "https://app.example/settings";

/// The gateway's settings for OAuth with the stand-in's application, on `database_url`.
fn oauth_env<'a>(database_url: &'a str, stand_in: &'a str) -> Vec<(&'a str, &'a str)> {
    // The stand-in's tokens and codes have these prefixes: no log line may hold one.
    for prefix in ["oauth-at-", "oauth-rt-"] {
        secrets_in_logs::register_secret(prefix);
    }
    env_with(
        &development_env(database_url, stand_in),
        &[
            ("APP__CALENDLY__AUTH_BASE_URL", stand_in),
            ("APP__CALENDLY__OAUTH__CLIENT_ID", "stand-in-client"),
            (
                "APP__CALENDLY__OAUTH__CLIENT_SECRET",
                "stand-in-client-secret",
            ),
            ("APP__CALENDLY__OAUTH__REDIRECT_URI", REDIRECT_URI),
            ("APP__CALENDLY__OAUTH__RETURN_URL", RETURN_URL),
            (
                "APP__LOG__LEVEL",
                "info,adapters=debug,domain=debug,app_http=debug",
            ),
        ],
    )
}

/// What a web client and its user's browser do: start as `starter`, follow `authorize_url` to
/// the stand-in (which approves at once), and bring its redirect back to the gateway's
/// callback, which sends the browser on to the web application's page with Calendly's `code`
/// and `state`: those two.
pub(crate) async fn authorize(gateway: &str, starter: &str) -> (String, String) {
    let (status, body) = json_of(
        http_client()
            .post(format!("http://{gateway}/calendly/oauth/start"))
            .bearer_auth(starter)
            .send()
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let authorize_url = body["authorize_url"].as_str().expect("a URL");
    let approved = browser()
        .get(authorize_url)
        .send()
        .await
        .expect("the stand-in answers");
    assert_eq!(approved.status(), 302);
    let back = reqwest::Url::parse(&location(&approved)).expect("a URL");
    assert_eq!(
        back.as_str().split('?').next(),
        Some(REDIRECT_URI),
        "Calendly sends the browser to the registered redirect URI"
    );
    for (name, value) in back.query_pairs() {
        if name == "code" || name == "state" {
            secrets_in_logs::register_secret(&value);
        }
    }
    let landed = browser()
        .get(format!(
            "http://{gateway}/calendly/oauth/callback?{}",
            back.query().unwrap_or_default()
        ))
        .send()
        .await
        .expect("sent");
    assert_eq!(landed.status(), 302);
    let page = reqwest::Url::parse(&location(&landed)).expect("a URL");
    assert_eq!(page.as_str().split('?').next(), Some(RETURN_URL));
    let value = |name: &str| {
        page.query_pairs()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
            .unwrap_or_else(|| panic!("{name} passed on: {page}"))
    };
    (value("code"), value("state"))
}

/// What the web application's page does with them: `POST /calendly/oauth/complete` with its
/// user's bearer. The status and body.
pub(crate) async fn complete(
    gateway: &str,
    bearer: &str,
    (code, state): &(String, String),
) -> (u16, serde_json::Value) {
    json_of(
        http_client()
            .post(format!("http://{gateway}/calendly/oauth/complete"))
            .bearer_auth(bearer)
            .json(&serde_json::json!({"code": code, "state": state}))
            .send()
            .await
            .expect("sent"),
    )
    .await
}

/// The whole flow for `bearer`'s user: the connection.
async fn connect_with_oauth(gateway: &str, bearer: &str) -> serde_json::Value {
    let answer = authorize(gateway, bearer).await;
    let (status, connection) = complete(gateway, bearer, &answer).await;
    assert_eq!(status, 200, "{connection}");
    connection
}

const AVAILABILITY: &str =
    "/calendly/check-availability?start_time=2100-01-01T00:00:00Z&end_time=2100-01-03T00:00:00Z";

/// The account-linking attack, end to end: someone starts for their own app user and sends the
/// authorization URL to a victim, who approves at Calendly and lands on the web application's
/// page, signed in as themselves. Completed with the victim's bearer, it is refused and nothing
/// is stored; the sender, who may have the code too, finds the state spent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_authorization_url_sent_to_someone_else_connects_no_one() {
    let stand_in = StandIn::with_token_ttl(7200);
    let db = TestSqliteFile::create();
    let database_url = db.url();
    let env = oauth_env(&database_url, &stand_in.url);
    let (_server, gateway, _log) = serve(&env);
    let attacker = access_token(&env, "666");
    let victim = access_token(&env, "42");

    let answer = authorize(&gateway, &attacker).await;
    let (status, body) = complete(&gateway, &victim, &answer).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("oauth_user_mismatch")),
        "{body}"
    );
    let (status, body) = complete(&gateway, &attacker, &answer).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("invalid_state")),
        "{body}"
    );
    for bearer in [&attacker, &victim] {
        assert_eq!(get(&gateway, bearer, "/calendly/connection").await.0, 404);
    }
    let stats = stand_in.stats().await;
    assert_eq!(
        stats["oauth_token_authorization_code"], 0,
        "no code was exchanged"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_flow_then_renewals_across_expiries_a_refused_refresh_and_revocation() {
    let stand_in = StandIn::with_token_ttl(2);
    let db = TestSqliteFile::create();
    let database_url = db.url();
    let env = oauth_env(&database_url, &stand_in.url);
    let (_server, gateway, _log) = serve(&env);
    let bearer = access_token(&env, "42");

    let completed = connect_with_oauth(&gateway, &bearer).await;
    assert_eq!(completed["method"], "oauth");
    let (status, connection) = get(&gateway, &bearer, "/calendly/connection").await;
    assert_eq!(
        (status, connection["method"].as_str()),
        (200, Some("oauth"))
    );
    let (status, uri) = get(&gateway, &bearer, "/calendly/user").await;
    assert_eq!(status, 200);
    assert_eq!(
        Some(uri.as_str().unwrap_or_default()),
        connection["user_uri"].as_str()
    );
    let (status, event_types) = get(&gateway, &bearer, "/calendly/user-event-types").await;
    assert_eq!(status, 200, "{event_types}");
    assert!(
        event_types.to_string().contains("/event_types/"),
        "{event_types}"
    );
    let (status, times) = get(&gateway, &bearer, AVAILABILITY).await;
    assert_eq!(status, 200, "{times}");
    assert!(times.to_string().contains("start_time"), "{times}");

    // Access tokens live 2 s: availability keeps answering across several expiries.
    stand_in.reset_stats().await;
    let started = Instant::now();
    let mut answers = Vec::new();
    while started.elapsed() < Duration::from_secs(7) {
        answers.push(get(&gateway, &bearer, AVAILABILITY).await.0);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    assert!(answers.iter().all(|s| *s == 200), "{answers:?}");
    let stats = stand_in.stats().await;
    let refreshes = stats["oauth_token_refresh_token"];
    // Renewed once per token, at half its life: between one per lifetime and one per half.
    assert!(
        (elapsed / 2.0).floor() as u64 <= refreshes && refreshes <= (elapsed / 1.0).ceil() as u64,
        "{refreshes} refreshes in {elapsed:.1} s"
    );
    assert_eq!(stats["oauth_invalid_grant"], 0);

    // The user removes the app at Calendly: the refresh token is refused, then 424 until the
    // user connects again, without asking Calendly again.
    http_client()
        .delete(format!("{}/oauth/refresh_tokens", stand_in.url))
        .send()
        .await
        .expect("sent");
    tokio::time::sleep(Duration::from_millis(2100)).await;
    stand_in.reset_stats().await;
    for _ in 0..2 {
        let (status, body) = get(&gateway, &bearer, AVAILABILITY).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (424, Some("calendly_reauth_required"))
        );
    }
    assert_eq!(stand_in.stats().await["oauth_token_refresh_token"], 1);
    connect_with_oauth(&gateway, &bearer).await;
    assert_eq!(get(&gateway, &bearer, AVAILABILITY).await.0, 200);

    // Disconnecting revokes at Calendly.
    stand_in.reset_stats().await;
    let deleted = http_client()
        .delete(format!("http://{gateway}/calendly/connection"))
        .bearer_auth(&bearer)
        .send()
        .await
        .expect("sent");
    assert_eq!(deleted.status(), 204);
    assert_eq!(stand_in.stats().await["oauth_revoke"], 1);
    assert_eq!(get(&gateway, &bearer, "/calendly/connection").await.0, 404);
}

/// Fires `requests` availability requests at `gateway` at once: their statuses.
async fn burst(gateway: &str, bearer: &str, requests: usize) -> Vec<u16> {
    let client = http_client();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..requests {
        let request = client
            .get(format!("http://{gateway}{AVAILABILITY}"))
            .bearer_auth(bearer);
        tasks.spawn(async move { request.send().await.expect("sent").status().as_u16() });
    }
    let mut statuses = Vec::new();
    while let Some(status) = tasks.join_next().await {
        statuses.push(status.expect("task"));
    }
    statuses
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_renewing_one_connection_at_expiry_make_one_refresh() {
    const TTL_SECS: u64 = 4;
    let stand_in = StandIn::with_token_ttl(TTL_SECS);
    let db = TestDatabase::create().await;
    let env = oauth_env(db.url(), &stand_in.url);
    let (_first, first, _first_log): (Server, _, _) = serve(&env);
    let (_second, second, _second_log) = serve(&env);
    let bearer = access_token(&env, "42");

    connect_with_oauth(&first, &bearer).await;
    // Both instances have the event types already: the burst asks only for availability.
    for gateway in [&first, &second] {
        assert_eq!(get(gateway, &bearer, AVAILABILITY).await.0, 200);
    }
    // The token is due at half its life.
    tokio::time::sleep(Duration::from_secs(TTL_SECS / 2) + Duration::from_millis(100)).await;
    stand_in.reset_stats().await;
    let (first_statuses, second_statuses) =
        tokio::join!(burst(&first, &bearer, 50), burst(&second, &bearer, 50));

    let stats = stand_in.stats().await;
    assert_eq!(stats["oauth_invalid_grant"], 0);
    assert_eq!(stats["oauth_token_refresh_token"], 1, "{stats:?}");
    for statuses in [first_statuses, second_statuses] {
        assert_eq!(statuses.len(), 50);
        assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    }
}
