//! Webhook subscriptions at connect, replace and disconnect, and deliveries.

use super::*;
use crate::error::{ProviderError, Rejection};
use crate::ports::{HookedAccount, MockWebhookSubscriptions};
use crate::webhook::{
    HookId, HookSigning, NewHook, SignatureError, SigningKey, Subscription, Webhooks,
};

const BASE: &str = "https://gateway.example/";
pub(super) const HOOK: &str = "hook-0123456789abcdef";
const URL: &str = "https://gateway.example/calendly/webhooks/hook-0123456789abcdef";
pub(super) const ORG: &str = "https://api.calendly.com/organizations/ORG";

pub(super) fn hook_id(id: &str) -> HookId {
    HookId::parse(id).expect("hook id")
}

pub(super) fn signing_key() -> SigningKey {
    SigningKey::new("signing-key-of-the-hook")
}

pub(super) fn application_key() -> SigningKey {
    SigningKey::new("the-oauth-applications-key")
}

pub(super) fn previous_application_key() -> SigningKey {
    SigningKey::new("the-oauth-applications-previous-key")
}

pub(super) fn subscription(id: &str) -> Webhooks {
    Webhooks::Active(Subscription {
        hook_id: hook_id(id),
        signing: HookSigning::Own(signing_key()),
        uri: format!("https://api.calendly.com/webhook_subscriptions/{id}"),
    })
}

pub(super) fn subscriptions() -> MockWebhookSubscriptions {
    let mut subscriptions = MockWebhookSubscriptions::new();
    subscriptions.expect_new_hook().returning(|| NewHook {
        hook_id: hook_id(HOOK),
        signing_key: signing_key(),
    });
    subscriptions
}

pub(super) fn webhook_service(
    tokens: MockTokenRepository,
    subscriptions: MockWebhookSubscriptions,
    cache: MockAccountCache,
) -> SchedulingService {
    let mut scheduling = MockSchedulingProvider::new();
    scheduling
        .expect_current_user()
        .returning(|_| Ok(calendly_user()));
    SchedulingService::new(
        Ports {
            account_cache: Arc::new(cache),
            answers: Arc::new(crate::NoKeptAnswers),
            subscriptions: Arc::new(subscriptions),
            ..ports(tokens, scheduling)
        },
        AvailabilityPolicy::default(),
    )
    .with_webhooks(WebhookPolicy {
        public_base_url: Some(BASE.into()),
        tolerance: TimeDelta::seconds(180),
        application_keys: vec![application_key(), previous_application_key()],
    })
}

fn saved(connection: &CalendlyConnection) -> &'static str {
    connection.webhooks.status()
}

#[tokio::test]
async fn connecting_subscribes_then_deletes_the_replaced_connections_subscription() {
    let mut subscriptions = subscriptions();
    let mut order = mockall::Sequence::new();
    subscriptions
        .expect_subscribe()
        .withf(|token, user, organization, url, key| {
            token.expose() == "calendly-pat"
                && *user == calendly_user().uri
                && organization == ORG
                && url == URL
                && *key == Some(&signing_key())
        })
        .times(1)
        .in_sequence(&mut order)
        .returning(|_, _, _, _, _| Ok("https://api.calendly.com/webhook_subscriptions/NEW".into()));
    let mut tokens = MockTokenRepository::new();
    tokens.expect_load().returning(|_| {
        Ok(Some(Arc::new(CalendlyConnection {
            webhooks: subscription("hook-of-the-old-connection"),
            ..connection()
        })))
    });
    tokens
        .expect_save()
        .withf(|connection| saved(connection) == "active")
        .times(1)
        .in_sequence(&mut order)
        .returning(|_| Ok(()));
    subscriptions
        .expect_unsubscribe()
        .withf(|_, uri| uri.ends_with("/hook-of-the-old-connection"))
        .times(1)
        .in_sequence(&mut order)
        .returning(|_, _| Ok(()));
    let connection = webhook_service(tokens, subscriptions, any_cache())
        .connect(user_id(), token())
        .await
        .expect("connected");
    let Webhooks::Active(active) = connection.webhooks else {
        panic!("not active");
    };
    assert_eq!(active.hook_id, hook_id(HOOK));
    assert_eq!(
        active.uri,
        "https://api.calendly.com/webhook_subscriptions/NEW"
    );
}

#[tokio::test]
async fn a_subscription_left_with_the_same_url_is_replaced() {
    let mut subscriptions = subscriptions();
    let mut calls = 0;
    subscriptions
        .expect_subscribe()
        .times(2)
        .returning(move |_, _, _, _, _| {
            calls += 1;
            if calls == 1 {
                Err(ProviderError::Rejected {
                    reason: Rejection::Conflict,
                    details: json!({"title": "Already Exists"}),
                })
            } else {
                Ok("https://api.calendly.com/webhook_subscriptions/NEW".into())
            }
        });
    subscriptions
        .expect_find()
        .withf(|_, _, organization, url| organization == ORG && url == URL)
        .returning(|_, _, _, _| {
            Ok(Some(
                "https://api.calendly.com/webhook_subscriptions/LEFT".into(),
            ))
        });
    subscriptions
        .expect_unsubscribe()
        .withf(|_, uri| uri.ends_with("/LEFT"))
        .times(1)
        .returning(|_, _| Ok(()));
    let mut tokens = MockTokenRepository::new();
    tokens.expect_load().returning(|_| Ok(None));
    tokens.expect_save().times(1).returning(|_| Ok(()));
    let connection = webhook_service(tokens, subscriptions, any_cache())
        .connect(user_id(), token())
        .await
        .expect("connected");
    assert_eq!(connection.webhooks.status(), "active");
}

#[tokio::test]
async fn a_plan_without_webhooks_or_a_failure_leaves_the_connection_working_unsubscribed() {
    for refusal in [
        ProviderError::Rejected {
            reason: Rejection::Forbidden,
            details: json!({"title": "Permission Denied"}),
        },
        ProviderError::Timeout,
    ] {
        let mut subscriptions = subscriptions();
        subscriptions
            .expect_subscribe()
            .times(1)
            .return_once(move |_, _, _, _, _| Err(refusal));
        let mut tokens = MockTokenRepository::new();
        tokens.expect_load().returning(|_| Ok(None));
        tokens
            .expect_save()
            .withf(|connection| saved(connection) == "unavailable")
            .times(1)
            .returning(|_| Ok(()));
        let connection = webhook_service(tokens, subscriptions, any_cache())
            .connect(user_id(), token())
            .await
            .expect("connected");
        assert_eq!(connection.webhooks, Webhooks::Unavailable);
    }
}

#[tokio::test]
async fn when_the_store_fails_the_new_subscription_is_deleted_again() {
    let mut subscriptions = subscriptions();
    subscriptions
        .expect_subscribe()
        .returning(|_, _, _, _, _| Ok("https://api.calendly.com/webhook_subscriptions/NEW".into()));
    subscriptions
        .expect_unsubscribe()
        .withf(|_, uri| uri.ends_with("/NEW"))
        .times(1)
        .returning(|_, _| Ok(()));
    let mut tokens = MockTokenRepository::new();
    tokens.expect_load().returning(|_| Ok(None));
    tokens
        .expect_save()
        .returning(|_| Err(RepositoryError::Unavailable("down".into())));
    let error = webhook_service(tokens, subscriptions, MockAccountCache::new())
        .connect(user_id(), token())
        .await
        .expect_err("store down");
    assert!(matches!(error, GatewayError::Repository(_)));
}

#[tokio::test]
async fn disconnecting_deletes_the_subscription() {
    let mut subscriptions = MockWebhookSubscriptions::new();
    subscriptions
        .expect_unsubscribe()
        .withf(|token, uri| token.expose() == "calendly-pat" && uri.ends_with(HOOK))
        .times(1)
        .returning(|_, _| Ok(()));
    let mut tokens = MockTokenRepository::new();
    tokens.expect_load().returning(|_| {
        Ok(Some(Arc::new(CalendlyConnection {
            webhooks: subscription(HOOK),
            ..connection()
        })))
    });
    tokens.expect_delete().returning(|_| Ok(true));
    webhook_service(tokens, subscriptions, MockAccountCache::new())
        .disconnect(&user_id())
        .await
        .expect("disconnected");
}

fn hooked_repository() -> MockTokenRepository {
    let mut tokens = MockTokenRepository::new();
    tokens.expect_find_hook().returning(|id| {
        Ok((id.as_str() == HOOK).then(|| HookedAccount {
            user_id: user_id(),
            account: calendly_user().uri,
            signing: HookSigning::Own(signing_key()),
        }))
    });
    tokens
}

fn signed() -> String {
    signed_by(&signing_key())
}

#[tokio::test]
async fn invitee_events_forget_the_times_and_event_type_events_everything() {
    for (event, times, everything) in [
        ("invitee.created", 1, 0),
        ("invitee.canceled", 1, 0),
        ("event_type.updated", 0, 1),
        ("routing_form_submission.created", 0, 0),
    ] {
        let mut cache = MockAccountCache::new();
        cache
            .expect_forget_times()
            .withf(|account| *account == calendly_user().uri)
            .times(times)
            .returning(|_| ());
        cache
            .expect_forget()
            .withf(|account| *account == calendly_user().uri)
            .times(everything)
            .returning(|_| ());
        let receipt = webhook_service(hooked_repository(), subscriptions(), cache)
            .receive_webhook(&hook_id(HOOK), Some(&signed()), event.as_bytes())
            .await
            .expect("accepted");
        assert_eq!(receipt.event.as_deref(), Some(event));
    }
}

#[tokio::test]
async fn a_forged_or_unknown_delivery_changes_nothing_and_a_signed_non_json_one_is_ignored() {
    let service = webhook_service(
        hooked_repository(),
        subscriptions(),
        MockAccountCache::new(),
    );
    let body = "invitee.created";
    let forged = signed_by(&SigningKey::new("guess"));
    assert!(matches!(
        service
            .receive_webhook(&hook_id(HOOK), Some(&forged), body.as_bytes())
            .await,
        Err(GatewayError::InvalidSignature(SignatureError::Mismatch))
    ));
    assert!(matches!(
        service
            .receive_webhook(&hook_id(HOOK), None, body.as_bytes())
            .await,
        Err(GatewayError::InvalidSignature(SignatureError::Missing))
    ));
    assert!(matches!(
        service
            .receive_webhook(
                &hook_id("another-hook-0000000"),
                Some(&signed()),
                body.as_bytes()
            )
            .await,
        Err(GatewayError::HookNotFound)
    ));
    let receipt = service
        .receive_webhook(&hook_id(HOOK), Some(&signed()), b"not json")
        .await
        .expect("accepted");
    assert_eq!(receipt.event, None);
}

#[tokio::test]
async fn an_expired_oauth_connection_is_renewed_to_unsubscribe_and_its_new_token_revoked() {
    use super::renewal::{due, grant, store};
    let subscribed_due = CalendlyConnection {
        webhooks: subscription(HOOK),
        ..due("access-1", "refresh-1")
    };
    let (mut tokens, commits) = store(vec![subscribed_due.clone()], Some(subscribed_due));
    tokens.expect_delete().times(1).returning(|_| Ok(true));
    let mut oauth = crate::ports::MockOAuthProvider::new();
    oauth
        .expect_refresh()
        .times(1)
        .returning(|_| Ok(grant("access-2", "refresh-2")));
    oauth
        .expect_revoke()
        .withf(|token| token.expose() == "refresh-2")
        .times(1)
        .returning(|_| Ok(()));
    let mut subscriptions = MockWebhookSubscriptions::new();
    subscriptions
        .expect_unsubscribe()
        .withf(|token, uri| token.expose() == "access-2" && uri.ends_with(HOOK))
        .times(1)
        .returning(|_, _| Ok(()));
    let service = SchedulingService::new(
        Ports {
            oauth: Some(Arc::new(oauth)),
            subscriptions: Arc::new(subscriptions),
            ..ports(tokens, MockSchedulingProvider::new())
        },
        AvailabilityPolicy::default(),
    );
    service.disconnect(&user_id()).await.expect("disconnected");
    assert_eq!(commits.lock().expect("lock").len(), 1, "renewed once");
}
