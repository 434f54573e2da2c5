//! Calendly's webhooks end to end: the gateway binary subscribes at the stand-in's binary when a
//! user connects, and the stand-in's signed deliveries make a booking or an event type change
//! show in the very next answer, however long the cache TTL.

use serde_json::{Value, json};
use test_support::TestDatabase;

use crate::binary::{Server, access_token, development_env, env_with, serve};
use crate::helpers::{http_client, json_of, next_week_check};
use crate::secrets_in_logs;
use crate::stand_in::StandIn;

const PAT: &str = "pat-with-webhooks";

/// A port free now (the gateway must know its public URL before it binds).
pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

struct Setup {
    _server: Server,
    gateway: String,
    bearer: String,
    stand_in: StandIn,
    _db: TestDatabase,
}

impl Setup {
    async fn start(stand_in_args: &[&str]) -> Self {
        let stand_in = StandIn::start(stand_in_args);
        let db = TestDatabase::create().await;
        let port = free_port().to_string();
        let public = format!("http://127.0.0.1:{port}");
        let env = env_with(
            &development_env(db.url(), &stand_in.url),
            &[
                ("APP__SERVER__PORT", &port),
                ("APP__WEBHOOKS__PUBLIC_BASE_URL", &public),
                // Far longer than the test: only a webhook can make an answer fresh.
                ("APP__CACHE__AVAILABILITY_TTL_SECS", "3600"),
                ("APP__CACHE__EVENT_TYPES_TTL_SECS", "3600"),
            ],
        );
        let bearer = access_token(&env, "hooked-user");
        let (server, gateway, _log) = serve(&env);
        secrets_in_logs::register_secret(PAT);
        Self {
            _server: server,
            gateway,
            bearer,
            stand_in,
            _db: db,
        }
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        json_of(
            http_client()
                .get(format!("http://{}{path}", self.gateway))
                .bearer_auth(&self.bearer)
                .send()
                .await
                .expect("sent"),
        )
        .await
    }

    async fn connect(&self) -> Value {
        let (status, body) = json_of(
            http_client()
                .put(format!("http://{}/calendly/connection", self.gateway))
                .bearer_auth(&self.bearer)
                .json(&json!({ "personal_access_token": PAT }))
                .send()
                .await
                .expect("sent"),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        body
    }

    async fn admin(&self, path: &str, body: Value) -> Value {
        let (status, answer) = json_of(
            http_client()
                .post(format!("{}{path}", self.stand_in.url))
                .json(&body)
                .send()
                .await
                .expect("sent"),
        )
        .await;
        assert_eq!(status, 200, "{answer}");
        answer
    }

    /// The user's subscriptions at the stand-in.
    async fn subscriptions(&self) -> Vec<Value> {
        let (_, body) = json_of(
            http_client()
                .get(format!("{}/webhook_subscriptions", self.stand_in.url))
                .bearer_auth(PAT)
                .send()
                .await
                .expect("sent"),
        )
        .await;
        body["collection"].as_array().cloned().unwrap_or_default()
    }
}

pub(crate) fn starts(answer: &Value) -> Vec<String> {
    answer["collection"]
        .as_array()
        .expect("a collection")
        .iter()
        .map(|time| time["start_time"].as_str().expect("a start").to_owned())
        .collect()
}

#[tokio::test]
async fn a_booking_while_a_check_is_cached_is_gone_from_the_very_next_answer() {
    let setup = Setup::start(&[]).await;
    assert_eq!(setup.connect().await["webhooks"], "active");
    let subscriptions = setup.subscriptions().await;
    assert_eq!(subscriptions.len(), 1);
    assert!(
        subscriptions[0]["callback_url"]
            .as_str()
            .expect("a URL")
            .starts_with(&format!("http://{}/calendly/webhooks/", setup.gateway)),
        "{subscriptions:?}"
    );

    let (status, first) = setup.get(&next_week_check()).await;
    assert_eq!(status, 200);
    let (_, again) = setup.get(&next_week_check()).await;
    assert_eq!(starts(&again), starts(&first));
    assert_eq!(
        setup.stand_in.stats().await["event_type_available_times"],
        1,
        "cached"
    );

    let (_, event_types) = setup.get("/calendly/user-event-types").await;
    let event_type = event_types[0]["uri"].as_str().expect("a URI").to_owned();
    let booked = starts(&first)[2].clone();
    let delivered = setup
        .admin(
            "/admin/book",
            json!({ "event_type": event_type, "start_time": booked }),
        )
        .await;
    assert_eq!(delivered["deliveries"][0]["status"], 200, "{delivered}");

    let (_, after) = setup.get(&next_week_check()).await;
    assert!(!starts(&after).contains(&booked), "the booked slot is gone");
    assert_eq!(starts(&after).len(), starts(&first).len() - 1);

    let changed = setup
        .admin(
            "/admin/change_event_type",
            json!({ "event_type": event_type }),
        )
        .await;
    assert_eq!(changed["deliveries"][0]["status"], 200, "{changed}");
    let (_, event_types) = setup.get("/calendly/user-event-types").await;
    assert!(
        event_types[0]["name"]
            .as_str()
            .expect("a name")
            .ends_with("(changed 1 times)"),
        "{event_types}"
    );

    // Disconnecting deletes the subscription: a later delivery would find no hook.
    let disconnected = http_client()
        .delete(format!("http://{}/calendly/connection", setup.gateway))
        .bearer_auth(&setup.bearer)
        .send()
        .await
        .expect("sent");
    assert_eq!(disconnected.status(), 204);
    assert!(setup.subscriptions().await.is_empty());
}

#[tokio::test]
async fn reconnecting_replaces_the_subscription_and_a_plan_without_webhooks_still_connects() {
    let setup = Setup::start(&[]).await;
    setup.connect().await;
    let first = setup.subscriptions().await;
    setup.connect().await;
    let second = setup.subscriptions().await;
    assert_eq!(second.len(), 1, "the replaced connection's is deleted");
    assert_ne!(first[0]["uri"], second[0]["uri"]);
    let (_, status) = setup.get("/calendly/connection").await;
    assert_eq!(status["webhooks"], "active");

    let without = Setup::start(&["--no-webhooks"]).await;
    assert_eq!(without.connect().await["webhooks"], "unavailable");
    let (status, _) = without.get(&next_week_check()).await;
    assert_eq!(status, 200, "the connection works on TTLs alone");
}
