//! `POST /calendly/webhooks/{hook_id}` against the bad input and attacks a public endpoint
//! meets: each refused with its error, none changing a cache, no key in any log line.

use adapters::calendly::signature_header;
use chrono::Utc;
use domain::SigningKey;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use test_support::calendly;

use crate::helpers::{TestApp, assert_error, json_of};
use crate::secrets_in_logs;

const BODY: &str = r#"{"event":"invitee.created","created_at":"2030-01-01T00:00:00.000000Z","created_by":"https://api.calendly.com/users/AAAAAAAAAAAAAAAA","payload":{}}"#;
const CHECK: &str =
    "/calendly/check-availability?start_time=2031-01-06T00:00:00Z&end_time=2031-01-07T00:00:00Z";

/// A gateway with webhooks and its availability cache on, `USER` connected and subscribed:
/// the app, the hook's delivery path and its signing key (read from what Calendly received).
async fn subscribed() -> (TestApp, String, SigningKey) {
    let app = TestApp::spawn_with(|settings| {
        settings.webhooks.public_base_url = Some("https://gateway.example".into());
        settings.cache.availability_ttl_secs = 600;
    })
    .await;
    Mock::given(method("POST"))
        .and(path("/webhook_subscriptions"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "resource": {"uri": "https://api.calendly.com/webhook_subscriptions/SUB1",
                         "callback_url": "https://gateway.example/calendly/webhooks/x",
                         "state": "active"}
        })))
        .mount(&app.calendly)
        .await;
    app.connect().await;
    let request = &app.calendly_requests("/webhook_subscriptions").await[0];
    let sent: Value = serde_json::from_slice(&request.body).expect("JSON");
    let key = sent["signing_key"].as_str().expect("a key").to_owned();
    secrets_in_logs::register_secret(&key);
    let url = sent["url"].as_str().expect("a URL");
    let hook_path = url
        .strip_prefix("https://gateway.example")
        .expect("under the public URL")
        .to_owned();
    app.calendly_has_event_types(&[calendly::event_type(
        "https://api.calendly.com/event_types/E1",
        "Meeting",
    )])
    .await;
    Mock::given(method("GET"))
        .and(path("/event_type_available_times"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(calendly::available_times(&[
                calendly::available_time("2031-01-06T10:00:00.000000Z"),
            ])),
        )
        .mount(&app.calendly)
        .await;
    (app, hook_path, SigningKey::new(key))
}

async fn deliver(
    app: &TestApp,
    hook_path: &str,
    signature: Option<&str>,
    body: &[u8],
) -> reqwest::Response {
    let mut request = app
        .client
        .post(app.url(hook_path))
        .header("content-type", "application/json")
        .body(body.to_vec());
    if let Some(signature) = signature {
        request = request.header("Calendly-Webhook-Signature", signature);
    }
    request.send().await.expect("sent")
}

fn now() -> i64 {
    Utc::now().timestamp()
}

async fn availability_calls(app: &TestApp) -> usize {
    app.calendly_requests("/event_type_available_times")
        .await
        .len()
}

#[tokio::test]
async fn bad_signatures_are_401_and_never_change_the_cache() {
    let (app, hook, key) = subscribed().await;
    assert_eq!(app.get(CHECK).await.status(), 200);
    assert_eq!(availability_calls(&app).await, 1);

    // One moment for every header, so a second ticking over mid-test changes nothing.
    let t = now();
    let valid = signature_header(&key, t, BODY.as_bytes());
    let v1 = valid.split("v1=").nth(1).expect("v1").to_owned();
    let mut changed = BODY.as_bytes().to_vec();
    changed[10] ^= 1;
    let forged: Vec<(Option<String>, Vec<u8>)> = vec![
        (None, BODY.into()),
        (Some("t=,v1=".into()), BODY.into()),
        (Some("nonsense".into()), BODY.into()),
        (Some(format!("t={t},v1=zz")), BODY.into()),
        (
            Some(signature_header(
                &SigningKey::new("a guessed key"),
                t,
                BODY.as_bytes(),
            )),
            BODY.into(),
        ),
        (Some(valid.clone()), changed),
        // Well beyond the 180 s tolerance, either way: one second past it stops being past it
        // when the gateway's clock ticks over before it reads the header (the exact bound is
        // the domain's unit test).
        (
            Some(signature_header(&key, t - 200, BODY.as_bytes())),
            BODY.into(),
        ),
        (
            Some(signature_header(&key, t + 200, BODY.as_bytes())),
            BODY.into(),
        ),
        (Some(format!("t={},v1={v1}", t - 1)), BODY.into()),
    ];
    for (signature, body) in forged {
        let response = deliver(&app, &hook, signature.as_deref(), &body).await;
        assert_error(response, 401, "invalid_signature").await;
    }
    assert_eq!(app.get(CHECK).await.status(), 200);
    assert_eq!(
        availability_calls(&app).await,
        1,
        "still answered from memory"
    );

    // Of two v1 values, the valid one passes (Calendly rotating keys); it forgets the times.
    let rotated = format!("t={t},v1={},v1={v1}", "ab".repeat(32));
    let response = deliver(&app, &hook, Some(&rotated), BODY.as_bytes()).await;
    let (status, body) = json_of(response).await;
    assert_eq!((status, body), (200, json!({"status": "accepted"})));
    assert_eq!(app.get(CHECK).await.status(), 200);
    assert_eq!(
        availability_calls(&app).await,
        2,
        "asked again after the delivery"
    );
}

#[tokio::test]
async fn unknown_hooks_large_bodies_and_unreadable_deliveries() {
    let (app, hook, key) = subscribed().await;
    // Unknown and malformed hook ids.
    for unknown in [
        "/calendly/webhooks/aaaaaaaaaaaaaaaaaaaaaaaa",
        "/calendly/webhooks/x",
    ] {
        let signature = signature_header(&key, now(), BODY.as_bytes());
        let response = deliver(&app, unknown, Some(&signature), BODY.as_bytes()).await;
        assert_error(response, 410, "gone").await;
    }
    // Over 64 KiB, whatever its signature.
    let large = format!(
        r#"{{"event":"invitee.created","pad":"{}"}}"#,
        "x".repeat(64 * 1024)
    );
    let signature = signature_header(&key, now(), large.as_bytes());
    let response = deliver(&app, &hook, Some(&signature), large.as_bytes()).await;
    assert_error(response, 413, "payload_too_large").await;
    // A signed body that is not JSON: accepted, ignored, logged.
    let signature = signature_header(&key, now(), b"not json at all");
    let response = deliver(&app, &hook, Some(&signature), b"not json at all").await;
    assert_eq!(response.status(), 200);
    assert!(!secrets_in_logs::lines_with("not Calendly's JSON; ignored").is_empty());
    // No body at all: no delivery, whatever the hook and its signature.
    let signature = signature_header(&key, now(), b"");
    let response = deliver(&app, &hook, Some(&signature), b"").await;
    assert_error(response, 400, "invalid_parameter").await;
    // Another method.
    let response = app.client.get(app.url(&hook)).send().await.expect("sent");
    assert_error(response, 405, "method_not_allowed").await;
    // The metrics count deliveries by event and verdict.
    let metrics = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("sent")
        .text()
        .await
        .expect("text");
    assert!(
        metrics.contains(r#"webhook_deliveries_total{event="none",verdict="gone"} 2"#),
        "{metrics}"
    );
    assert!(metrics.contains(r#"webhook_deliveries_total{event="none",verdict="unreadable"} 2"#));
}

#[tokio::test]
async fn a_disconnected_users_hook_is_410_and_its_subscription_deleted() {
    let (app, hook, key) = subscribed().await;
    Mock::given(method("DELETE"))
        .and(path("/webhook_subscriptions/SUB1"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&app.calendly)
        .await;
    let response = app
        .client
        .delete(app.url("/calendly/connection"))
        .bearer_auth(app.token(crate::helpers::USER))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 204);
    let signature = signature_header(&key, now(), BODY.as_bytes());
    let response = deliver(&app, &hook, Some(&signature), BODY.as_bytes()).await;
    assert_error(response, 410, "gone").await;
}
