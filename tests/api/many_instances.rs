//! Three gateway processes on one PostgreSQL (and the Calendly stand-in's binary): each keeps
//! connections in memory, and a change through one (a disconnect, a webhook delivery) is seen
//! by the others within a second.

use std::time::{Duration, Instant};

use serde_json::json;
use test_support::TestDatabase;

use crate::binary::{Server, access_token, development_env, env_with, serve};
use crate::helpers::{get_json, http_client, json_of, metric_at, next_week_check};
use crate::stand_in::StandIn;
use crate::webhooks_end_to_end::{free_port, starts};

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
    metric_at(
        gateway,
        &format!("cache_lookups_total{{kind=\"connections\",result=\"{result}\"}}"),
    )
    .await
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

/// Three gateways on one database and the stand-in, caching for an hour (only a webhook can
/// make an answer fresh), A subscribing to Calendly's webhooks; a user connected through A.
struct Hooked {
    stand_in: StandIn,
    db: TestDatabase,
    gateways: [(Server, String); 3],
    bearer: String,
}

async fn hooked(pat: &str, user: &str) -> Hooked {
    crate::secrets_in_logs::register_secret(pat);
    let stand_in = StandIn::start(&[]);
    let db = TestDatabase::create().await;
    let base = env_with(
        &development_env(db.url(), &stand_in.url),
        &[
            ("APP__CACHE__AVAILABILITY_TTL_SECS", "3600"),
            ("APP__CACHE__EVENT_TYPES_TTL_SECS", "3600"),
        ],
    );
    let gateways = hooked_and_two_more(&base);
    let bearer = access_token(&base, user);
    let (status, connection) = json_of(
        http_client()
            .put(format!("http://{}/calendly/connection", gateways[0].1))
            .bearer_auth(&bearer)
            .json(&json!({ "personal_access_token": pat }))
            .send()
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!((status, &connection["webhooks"]), (200, &json!("active")));
    Hooked {
        stand_in,
        db,
        gateways,
        bearer,
    }
}

#[tokio::test]
async fn a_webhook_delivered_to_one_instance_refreshes_the_others() {
    let hooked = hooked("pat-of-many-hooked-instances", "hooked-everywhere").await;
    let (b, c, bearer) = (&hooked.gateways[1].1, &hooked.gateways[2].1, &hooked.bearer);
    let check = next_week_check();
    let first = starts(&get_json(b, bearer, &check).await.1);
    assert_eq!(starts(&get_json(c, bearer, &check).await.1), first);
    assert_eq!(starts(&get_json(b, bearer, &check).await.1), first);
    assert_eq!(
        hooked.stand_in.stats().await["event_type_available_times"],
        2,
        "kept by B and by C"
    );

    booked_and_gone_everywhere(&hooked.stand_in, bearer, &first[2], &check, &[b, c]).await;
}

/// Three gateways: A on `base` and subscribing to Calendly's webhooks (at its own address), B
/// and C on `base`; each with its address.
pub(crate) fn hooked_and_two_more(base: &[(&str, &str)]) -> [(Server, String); 3] {
    let port = free_port().to_string();
    let public = format!("http://127.0.0.1:{port}");
    let hooked = env_with(
        base,
        &[
            ("APP__SERVER__PORT", &port),
            ("APP__WEBHOOKS__PUBLIC_BASE_URL", &public),
        ],
    );
    let mut gateways = instances(&hooked, 1);
    gateways.extend(instances(base, 2));
    let Ok(three) = gateways.try_into() else {
        unreachable!("one and two make three")
    };
    three
}

/// `count` gateways on `env`, each with its address.
pub(crate) fn instances(env: &[(&str, &str)], count: usize) -> Vec<(Server, String)> {
    (0..count)
        .map(|_| {
            let (server, address, _log) = serve(env);
            (server, address)
        })
        .collect()
}

/// Books `start` of the user's first event type (as the first of `gateways` lists them) at the
/// stand-in, which delivers the webhook, then sees the slot gone from `check` at every one of
/// `gateways` within a second.
pub(crate) async fn booked_and_gone_everywhere(
    stand_in: &StandIn,
    bearer: &str,
    start: &str,
    check: &str,
    gateways: &[&str],
) {
    let (_, event_types) = get_json(gateways[0], bearer, "/calendly/user-event-types").await;
    let event_type = event_types[0]["uri"].as_str().expect("a URI");
    let (status, delivered) = json_of(
        http_client()
            .post(format!("{}/admin/book", stand_in.url))
            .json(&json!({ "event_type": event_type, "start_time": start }))
            .send()
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(delivered["deliveries"][0]["status"], 200, "{delivered}");
    let received = Instant::now();
    for gateway in gateways {
        while starts(&get_json(gateway, bearer, check).await.1)
            .iter()
            .any(|offered| offered == start)
        {
            assert!(
                received.elapsed() < Duration::from_secs(1),
                "{gateway} still offers the booked slot"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    eprintln!(
        "the booking was gone everywhere after {:?}",
        received.elapsed()
    );
}

#[tokio::test]
async fn a_booking_while_every_listener_reconnects_is_served_stale_nowhere() {
    let hooked = hooked("pat-of-reconnecting-instances", "hooked-while-reconnecting").await;
    let (b, c, bearer) = (&hooked.gateways[1].1, &hooked.gateways[2].1, &hooked.bearer);
    let check = next_week_check();
    let first = starts(&get_json(b, bearer, &check).await.1);
    assert_eq!(starts(&get_json(c, bearer, &check).await.1), first);

    // Every listener's backend terminated: the booking's notice from A cannot reach B or C
    // while they listen again, and A cannot send it before it does.
    hooked
        .db
        .execute(&format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE application_name = '{}' AND datname = current_database()",
            adapters::connections::LISTENER_NAME
        ))
        .await;
    booked_and_gone_everywhere(&hooked.stand_in, bearer, &first[2], &check, &[b, c]).await;
}
