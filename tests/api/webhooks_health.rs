//! Webhooks as a real deployment meets them, end to end through the binaries: an OAuth
//! connection's subscription is signed by Calendly with the OAuth application's key (the
//! stand-in, like Calendly, ignores the key sent along), and a subscription Calendly disabled is
//! found by the gateway's background check and made again.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use test_support::TestDatabase;

use crate::binary::{Server, access_token, development_env, env_with, serve};
use crate::helpers::{get_json, http_client, json_of, next_week_check};
use crate::oauth_end_to_end::{REDIRECT_URI, RETURN_URL, authorize, complete};
use crate::secrets_in_logs;
use crate::stand_in::StandIn;
use crate::webhooks_end_to_end::{free_port, starts};

/// A gateway with webhooks on (answers cached for an hour: only a webhook makes them fresh)
/// and OAuth with the stand-in's application, its webhook signing key `app_key`, checking
/// subscriptions every `check_interval_secs`.
struct Deployment {
    _server: Server,
    gateway: String,
    bearer: String,
    stand_in: StandIn,
    _db: TestDatabase,
}

impl Deployment {
    async fn start(app_key: &str, check_interval_secs: &str) -> Self {
        let stand_in = StandIn::start(&[
            "--oauth-webhook-signing-key",
            "stand-in-webhook-signing-key",
        ]);
        let db = TestDatabase::create().await;
        let port = free_port().to_string();
        let public = format!("http://127.0.0.1:{port}");
        let env = env_with(
            &development_env(db.url(), &stand_in.url),
            &[
                ("APP__SERVER__PORT", &port),
                ("APP__WEBHOOKS__PUBLIC_BASE_URL", &public),
                ("APP__WEBHOOKS__CHECK_INTERVAL_SECS", check_interval_secs),
                ("APP__CACHE__AVAILABILITY_TTL_SECS", "3600"),
                ("APP__CALENDLY__AUTH_BASE_URL", &stand_in.url),
                ("APP__CALENDLY__OAUTH__CLIENT_ID", "stand-in-client"),
                ("APP__CALENDLY__OAUTH__REDIRECT_URI", REDIRECT_URI),
                ("APP__CALENDLY__OAUTH__RETURN_URL", RETURN_URL),
                ("APP__CALENDLY__OAUTH__WEBHOOK_SIGNING_KEY", app_key),
            ],
        );
        for prefix in ["oauth-at-", "oauth-rt-", app_key] {
            secrets_in_logs::register_secret(prefix);
        }
        let bearer = access_token(&env, "hooked-user");
        let (server, gateway, _log) = serve(&env);
        Self {
            _server: server,
            gateway,
            bearer,
            stand_in,
            _db: db,
        }
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        get_json(&self.gateway, &self.bearer, path).await
    }

    async fn admin(&self, path: &str, body: Value) -> (u16, Value) {
        json_of(
            http_client()
                .post(format!("{}{path}", self.stand_in.url))
                .json(&body)
                .send()
                .await
                .expect("sent"),
        )
        .await
    }

    /// Books the slot at `start` of the user's first event type at the stand-in: the status
    /// the gateway answered its delivery with.
    async fn book(&self, start: &str) -> Value {
        let (_, event_types) = self.get("/calendly/user-event-types").await;
        let event_type = event_types[0]["uri"].as_str().expect("a URI").to_owned();
        let (status, delivered) = self
            .admin(
                "/admin/book",
                json!({ "event_type": event_type, "start_time": start }),
            )
            .await;
        assert_eq!(status, 200, "{delivered}");
        delivered["deliveries"][0]["status"].clone()
    }

    /// The connection's `webhooks` once it is `wanted`, waiting at most `within`: how long it
    /// took, or what it said instead.
    async fn webhooks_become(&self, wanted: &str, within: Duration) -> Result<Duration, String> {
        let started = Instant::now();
        loop {
            let (_, connection) = self.get("/calendly/connection").await;
            if connection["webhooks"] == wanted {
                return Ok(started.elapsed());
            }
            if started.elapsed() > within {
                return Err(connection["webhooks"].to_string());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oauth_connections_booking_is_delivered_signed_with_the_applications_key_and_gone_at_once()
 {
    let deployment = Deployment::start("stand-in-webhook-signing-key", "3600").await;
    let answer = authorize(&deployment.gateway, &deployment.bearer).await;
    let (status, connection) = complete(&deployment.gateway, &deployment.bearer, &answer).await;
    assert_eq!(status, 200, "{connection}");
    assert_eq!(
        (
            connection["method"].as_str(),
            connection["webhooks"].as_str()
        ),
        (Some("oauth"), Some("active"))
    );

    let (status, first) = deployment.get(&next_week_check()).await;
    assert_eq!(status, 200, "{first}");
    let booked = starts(&first)[1].clone();
    assert_eq!(
        deployment.book(&booked).await,
        200,
        "the delivery is accepted"
    );
    let (_, after) = deployment.get(&next_week_check()).await;
    assert!(
        !starts(&after).contains(&booked),
        "the booked slot is gone from the very next answer"
    );
    assert_eq!(
        deployment.stand_in.stats().await["event_type_available_times"],
        2
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_another_application_key_an_oauth_connections_deliveries_are_refused() {
    // What every OAuth connection met before: the gateway expected a key Calendly ignores.
    let deployment = Deployment::start("not-the-applications-key", "3600").await;
    let answer = authorize(&deployment.gateway, &deployment.bearer).await;
    assert_eq!(
        complete(&deployment.gateway, &deployment.bearer, &answer)
            .await
            .0,
        200
    );
    let (_, first) = deployment.get(&next_week_check()).await;
    let booked = starts(&first)[1].clone();
    assert_eq!(deployment.book(&booked).await, 401);
    let (_, after) = deployment.get(&next_week_check()).await;
    assert!(starts(&after).contains(&booked), "still the cached answer");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscription_calendly_disabled_is_disabled_until_made_again_within_one_interval() {
    let deployment = Deployment::start("stand-in-webhook-signing-key", "2").await;
    let (status, connection) = json_of(
        http_client()
            .put(format!("http://{}/calendly/connection", deployment.gateway))
            .bearer_auth(&deployment.bearer)
            .json(&json!({ "personal_access_token": "pat-of-the-hooked-user" }))
            .send()
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!(
        (status, connection["webhooks"].as_str()),
        (200, Some("active")),
        "{connection}"
    );
    let user = connection["user_uri"].clone();

    // Calendly disables it (a day of failed deliveries), and at first refuses a new one.
    let (status, _) = deployment
        .admin("/admin/refuse_subscriptions", json!({"count": 1000}))
        .await;
    assert_eq!(status, 200);
    let (_, disabled) = deployment
        .admin("/admin/disable_subscriptions", json!({"user": user}))
        .await;
    assert_eq!(disabled["disabled"], 1);
    let seen = deployment
        .webhooks_become("disabled", Duration::from_secs(6))
        .await;
    let seen = seen.expect("the check finds it disabled within an interval");
    assert!(seen <= Duration::from_secs(4), "{seen:?}");
    let (_, answer) = deployment.get(&next_week_check()).await;
    assert!(!starts(&answer).is_empty(), "answers go on, on TTLs");

    // Calendly takes subscriptions again: made again within an interval.
    deployment
        .admin("/admin/refuse_subscriptions", json!({"count": 0}))
        .await;
    let remade = deployment
        .webhooks_become("active", Duration::from_secs(6))
        .await;
    let remade = remade.expect("made again within an interval");
    assert!(remade <= Duration::from_secs(4), "{remade:?}");
    let (_, subscriptions) = get_json_at(
        &deployment.stand_in.url,
        "pat-of-the-hooked-user",
        "/webhook_subscriptions",
    )
    .await;
    let states: Vec<&str> = subscriptions["collection"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|s| s["state"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        states,
        ["active"],
        "the disabled one deleted, a new one made"
    );

    // Its deliveries arrive and are accepted: the next answer is fresh again.
    let (_, first) = deployment.get(&next_week_check()).await;
    let booked = starts(&first)[0].clone();
    assert_eq!(deployment.book(&booked).await, 200);
    let (_, after) = deployment.get(&next_week_check()).await;
    assert!(!starts(&after).contains(&booked));
    assert!(deployment.stand_in.stats().await["webhook_subscription_reads"] >= 2);
}

/// GET `path` at the stand-in `base` with `token`.
async fn get_json_at(base: &str, token: &str, path: &str) -> (u16, Value) {
    json_of(
        http_client()
            .get(format!("{base}{path}"))
            .bearer_auth(token)
            .send()
            .await
            .expect("sent"),
    )
    .await
}
