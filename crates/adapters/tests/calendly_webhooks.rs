//! The Calendly adapter's webhook subscriptions against a wiremock Calendly.

use std::sync::Arc;
use std::time::Duration;

use adapters::calendly::CalendlyClient;
use domain::{
    CalendlyToken, CalendlyUserUri, ProviderError, Rejection, SigningKey, WebhookSubscriptions,
};
use serde_json::json;
use test_support::calendly;
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

mod support;

const ORG: &str = "https://api.calendly.com/organizations/AAAAAAAAAAAAAAAA";
const URL: &str = "https://gateway.example/calendly/webhooks/hook-0123456789abcdef";

fn client(server: &MockServer) -> CalendlyClient {
    let timeout = Duration::from_secs(5);
    support::client_with(
        &server.uri(),
        timeout,
        support::never_open(),
        None,
        Arc::default(),
    )
}

fn token() -> CalendlyToken {
    CalendlyToken::parse("calendly-token").expect("token")
}

fn user() -> CalendlyUserUri {
    CalendlyUserUri::parse(calendly::user_uri()).expect("uri")
}

fn resource(uri: &str, callback_url: &str) -> serde_json::Value {
    json!({
        "uri": uri, "callback_url": callback_url, "state": "active",
        "events": ["invitee.created"], "scope": "user", "organization": ORG,
        "user": calendly::user_uri(), "creator": calendly::user_uri(),
        "created_at": "2019-08-24T14:15:22.123456Z", "updated_at": "2019-08-24T14:15:22.123456Z",
        "retry_started_at": null
    })
}

/// Subscribes with `key` against a Calendly that expects exactly `body` (the documented POST
/// body, with `signing_key` when a key is sent): the URI read from the answer.
async fn subscribe_expecting(key: Option<&str>) -> String {
    let server = MockServer::start().await;
    let mut body = json!({
        "url": URL,
        "events": ["invitee.created", "invitee.canceled", "event_type.created", "event_type.updated", "event_type.deleted"],
        "organization": ORG,
        "user": calendly::user_uri(),
        "scope": "user",
    });
    if let Some(key) = key {
        body["signing_key"] = json!(key);
    }
    Mock::given(method("POST"))
        .and(path("/webhook_subscriptions"))
        .and(header("authorization", "Bearer calendly-token"))
        .and(body_json(body))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "resource": resource("https://api.calendly.com/webhook_subscriptions/NEW", URL)
        })))
        .expect(1)
        .mount(&server)
        .await;
    let key = key.map(SigningKey::new);
    client(&server)
        .subscribe(&token(), &user(), ORG, URL, key.as_ref())
        .await
        .expect("subscribed")
}

#[tokio::test]
async fn subscribing_posts_the_documented_body_and_reads_the_uri() {
    let uri = subscribe_expecting(Some("the-key")).await;
    assert_eq!(uri, "https://api.calendly.com/webhook_subscriptions/NEW");
}

#[tokio::test]
async fn an_oauth_subscription_sends_no_signing_key() {
    let uri = subscribe_expecting(None).await;
    assert_eq!(uri, "https://api.calendly.com/webhook_subscriptions/NEW");
}

#[tokio::test]
async fn a_subscriptions_state_is_read_and_a_gone_one_is_none() {
    let server = MockServer::start().await;
    let mut disabled = resource("https://api.calendly.com/webhook_subscriptions/OFF", URL);
    disabled["state"] = json!("disabled");
    for (uuid, answer) in [
        (
            "ON",
            ResponseTemplate::new(200).set_body_json(json!({
                "resource": resource("https://api.calendly.com/webhook_subscriptions/ON", URL)
            })),
        ),
        (
            "OFF",
            ResponseTemplate::new(200).set_body_json(json!({ "resource": disabled })),
        ),
        (
            "GONE",
            ResponseTemplate::new(404).set_body_json(calendly::error(404)),
        ),
    ] {
        Mock::given(method("GET"))
            .and(path(format!("/webhook_subscriptions/{uuid}")))
            .and(header("authorization", "Bearer calendly-token"))
            .respond_with(answer)
            .mount(&server)
            .await;
    }
    let client = client(&server);
    let state = |uuid: &'static str| {
        let client = client.clone();
        async move {
            client
                .state(
                    &token(),
                    &user(),
                    &format!("https://api.calendly.com/webhook_subscriptions/{uuid}"),
                )
                .await
        }
    };
    assert_eq!(
        state("ON").await.expect("read"),
        Some(domain::SubscriptionState::Active)
    );
    assert_eq!(
        state("OFF").await.expect("read"),
        Some(domain::SubscriptionState::Disabled)
    );
    assert_eq!(state("GONE").await.expect("read"), None);
}

#[tokio::test]
async fn a_taken_url_and_a_plan_without_webhooks_are_their_rejections_and_never_retried() {
    for (status, reason) in [(409, Rejection::Conflict), (403, Rejection::Forbidden)] {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/webhook_subscriptions"))
            .respond_with(ResponseTemplate::new(status).set_body_json(calendly::error(status)))
            .expect(1)
            .mount(&server)
            .await;
        let error = client(&server)
            .subscribe(&token(), &user(), ORG, URL, Some(&SigningKey::new("k")))
            .await
            .expect_err("refused");
        assert!(
            matches!(error, ProviderError::Rejected { reason: r, .. } if r == reason),
            "{error:?}"
        );
    }
    // A 503 is not retried for a POST: the subscription might have been made.
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/webhook_subscriptions"))
        .respond_with(ResponseTemplate::new(503))
        .expect(1)
        .mount(&server)
        .await;
    let error = client(&server)
        .subscribe(&token(), &user(), ORG, URL, Some(&SigningKey::new("k")))
        .await
        .expect_err("failed");
    assert!(matches!(error, ProviderError::Unavailable { .. }));
}

#[tokio::test]
async fn finding_follows_the_pages_to_the_subscription_with_the_url() {
    let server = MockServer::start().await;
    let page = |items: Vec<serde_json::Value>, next: Option<&str>| json!({"collection": items, "pagination": {"count": 1, "next_page_token": next}});
    Mock::given(method("GET"))
        .and(path("/webhook_subscriptions"))
        .and(query_param("organization", ORG))
        .and(query_param("user", calendly::user_uri().as_str()))
        .and(query_param("scope", "user"))
        .and(query_param("page_token", "second"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page(
            vec![resource(
                "https://api.calendly.com/webhook_subscriptions/MINE",
                URL,
            )],
            None,
        )))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/webhook_subscriptions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page(
            vec![resource(
                "https://api.calendly.com/webhook_subscriptions/OTHER",
                "https://elsewhere.example/hook",
            )],
            Some("second"),
        )))
        .mount(&server)
        .await;
    let found = client(&server)
        .find(&token(), &user(), ORG, URL)
        .await
        .expect("listed");
    assert_eq!(
        found.as_deref(),
        Some("https://api.calendly.com/webhook_subscriptions/MINE")
    );
    let none = client(&server)
        .find(
            &token(),
            &user(),
            ORG,
            "https://gateway.example/calendly/webhooks/nothing-here",
        )
        .await
        .expect("listed");
    assert_eq!(none, None);
}

#[tokio::test]
async fn unsubscribing_deletes_by_uuid_and_a_gone_one_counts_as_deleted() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .and(path("/webhook_subscriptions/AAAA-1111"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/webhook_subscriptions/GONE"))
        .respond_with(ResponseTemplate::new(404).set_body_json(calendly::error(404)))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server);
    client
        .unsubscribe(
            &token(),
            "https://api.calendly.com/webhook_subscriptions/AAAA-1111",
        )
        .await
        .expect("deleted");
    client
        .unsubscribe(
            &token(),
            "https://api.calendly.com/webhook_subscriptions/GONE",
        )
        .await
        .expect("already gone");
    for not_a_subscription in [
        "https://api.calendly.com/webhook_subscriptions/",
        "https://api.calendly.com/webhook_subscriptions/../users/me",
        "https://api.calendly.com/users/me",
    ] {
        assert!(
            client
                .unsubscribe(&token(), not_a_subscription)
                .await
                .is_err(),
            "{not_a_subscription}"
        );
    }
    server.verify().await;
}

#[test]
fn new_hooks_are_random_and_valid() {
    // No call is made: nothing listens at this address.
    let client = support::client_with(
        "http://127.0.0.1:9",
        Duration::from_secs(1),
        support::never_open(),
        None,
        Arc::default(),
    );
    let (a, b) = (client.new_hook(), client.new_hook());
    assert_ne!(a.hook_id, b.hook_id);
    assert_ne!(a.signing_key.expose(), b.signing_key.expose());
    assert!(a.signing_key.expose().len() >= 43);
}
