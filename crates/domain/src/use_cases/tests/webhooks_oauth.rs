//! OAuth connections' subscriptions (signed with the application's key), replacing an OAuth
//! connection, the subscriptions' health, scopes, and completing OAuth as another user.

use super::renewal::{due, grant};
use super::webhooks::{
    HOOK, application_key, hook_id, previous_application_key, signing_key, subscription,
    subscriptions, webhook_service,
};
use super::*;
use crate::error::ProviderError;
use crate::oauth::{AuthorizationCode, OAuthCallback, OAuthStart, OAuthStateToken, PkceVerifier};
use crate::ports::{HookedAccount, MockOAuthProvider, MockWebhookSubscriptions};
use crate::scope::{Scope, Scopes};
use crate::webhook::{HookSigning, SignatureError, Subscription, SubscriptionState, Webhooks};

fn application_signed(id: &str) -> Subscription {
    Subscription {
        hook_id: hook_id(id),
        signing: HookSigning::Application,
        uri: format!("https://api.calendly.com/webhook_subscriptions/{id}"),
    }
}

fn application_hooked() -> MockTokenRepository {
    let mut tokens = MockTokenRepository::new();
    tokens.expect_find_hook().returning(|id| {
        Ok((id.as_str() == HOOK).then(|| HookedAccount {
            user_id: user_id(),
            account: calendly_user().uri,
            signing: HookSigning::Application,
        }))
    });
    tokens
}

#[tokio::test]
async fn an_oauth_subscription_is_verified_with_the_applications_keys_never_its_own() {
    let mut cache = MockAccountCache::new();
    cache.expect_forget_times().times(2).returning(|_| ());
    let service = webhook_service(application_hooked(), subscriptions(), cache);
    let body = "invitee.created";
    let deliver = |signature: String| {
        let service = service.clone();
        async move {
            service
                .receive_webhook(&hook_id(HOOK), Some(&signature), body.as_bytes())
                .await
        }
    };
    assert!(deliver(signed_by(&application_key())).await.is_ok());
    assert!(
        deliver(signed_by(&previous_application_key()))
            .await
            .is_ok(),
        "the previous key while it is rotated"
    );
    // A key of the subscription's own is what Calendly ignores for OAuth subscriptions.
    assert!(matches!(
        deliver(signed_by(&signing_key())).await,
        Err(GatewayError::InvalidSignature(SignatureError::Mismatch))
    ));
}

#[tokio::test]
async fn without_the_previous_key_its_signature_is_refused() {
    let service = webhook_service(
        application_hooked(),
        subscriptions(),
        MockAccountCache::new(),
    )
    .with_webhooks(WebhookPolicy {
        public_base_url: Some("https://gateway.example".into()),
        tolerance: TimeDelta::seconds(180),
        application_keys: vec![application_key()],
    });
    let body = "invitee.created";
    let signature = signed_by(&previous_application_key());
    assert!(matches!(
        service
            .receive_webhook(&hook_id(HOOK), Some(&signature), body.as_bytes())
            .await,
        Err(GatewayError::InvalidSignature(SignatureError::Mismatch))
    ));
}

/// A due OAuth connection `access`/`refresh` subscribed with `HOOK`.
fn oauth_subscribed(access: &str, refresh: &str) -> CalendlyConnection {
    CalendlyConnection {
        webhooks: Webhooks::Active(application_signed(HOOK)),
        ..due(access, refresh)
    }
}

#[tokio::test]
async fn an_oauth_connection_subscribes_without_a_key_and_replacing_it_renews_unsubscribes_and_revokes()
 {
    let mut subscriptions = subscriptions();
    subscriptions
        .expect_subscribe()
        .withf(|token, _, _, _, key| token.expose() == "access-new" && key.is_none())
        .times(1)
        .returning(|_, _, _, _, _| Ok("https://api.calendly.com/webhook_subscriptions/NEW".into()));
    // The replaced connection's token is due: renewed, then used to delete its subscription,
    // then its new refresh token revoked.
    subscriptions
        .expect_unsubscribe()
        .withf(|token, uri| token.expose() == "access-renewed" && uri.ends_with(HOOK))
        .times(1)
        .returning(|_, _| Ok(()));
    let mut oauth = MockOAuthProvider::new();
    oauth
        .expect_refresh()
        .withf(|token| token.expose() == "refresh-old")
        .times(1)
        .returning(|_| Ok(grant("access-renewed", "refresh-renewed")));
    oauth
        .expect_revoke()
        .withf(|token| token.expose() == "refresh-renewed")
        .times(1)
        .returning(|_| Ok(()));
    let mut tokens = MockTokenRepository::new();
    tokens.expect_load().returning(|_| {
        Ok(Some(Arc::new(oauth_subscribed(
            "access-old",
            "refresh-old",
        ))))
    });
    tokens
        .expect_save()
        .withf(|connection| {
            connection.webhooks.subscription().map(|s| &s.signing)
                == Some(&HookSigning::Application)
        })
        .times(1)
        .returning(|_| Ok(()));
    let mut cache = MockAccountCache::new();
    cache.expect_forget().returning(|_| ());
    let service = SchedulingService::new(
        Ports {
            oauth: Some(Arc::new(oauth)),
            ..ports(tokens, MockSchedulingProvider::new())
        },
        AvailabilityPolicy::default(),
    );
    let service = webhook_service_from(service, subscriptions, cache);
    let fresh = CalendlyConnection {
        credential: CalendlyCredential::OAuth {
            access_token: CalendlyToken::parse("access-new").expect("token"),
            refresh_token: Some(CalendlyToken::parse("refresh-new").expect("token")),
            issued_at: at(NOW),
            expires_at: at(NOW) + TimeDelta::hours(2),
        },
        ..connection()
    };
    let stored = service.establish(fresh).await.expect("connected");
    assert_eq!(stored.webhooks.status(), "active");
}

/// `service` with the webhook policy of the tests, `subscriptions` and `cache`.
fn webhook_service_from(
    service: SchedulingService,
    subscriptions: MockWebhookSubscriptions,
    cache: MockAccountCache,
) -> SchedulingService {
    let mut ports = service.ports.clone();
    ports.subscriptions = Arc::new(subscriptions);
    ports.account_cache = Arc::new(cache);
    SchedulingService::new(ports, AvailabilityPolicy::default()).with_webhooks(WebhookPolicy {
        public_base_url: Some("https://gateway.example/".into()),
        tolerance: TimeDelta::seconds(180),
        application_keys: vec![application_key()],
    })
}

/// A repository whose user has `webhooks`, recording what is set.
fn watched(webhooks: Webhooks) -> (MockTokenRepository, Arc<Mutex<Vec<Webhooks>>>) {
    let set = Arc::new(Mutex::new(Vec::new()));
    let mut tokens = MockTokenRepository::new();
    tokens.expect_load().returning(move |_| {
        Ok(Some(Arc::new(CalendlyConnection {
            webhooks: webhooks.clone(),
            ..connection()
        })))
    });
    let recorded = Arc::clone(&set);
    tokens
        .expect_set_webhooks()
        .returning(move |_, _, webhooks| {
            recorded.lock().expect("lock").push(webhooks.clone());
            Ok(true)
        });
    (tokens, set)
}

fn stated(state: Option<SubscriptionState>) -> MockWebhookSubscriptions {
    let mut subscriptions = subscriptions();
    subscriptions
        .expect_state()
        .times(1)
        .returning(move |_, _, _| Ok(state));
    subscriptions
}

#[tokio::test]
async fn an_active_subscription_is_left_alone() {
    let (tokens, set) = watched(subscription(HOOK));
    let service = webhook_service(
        tokens,
        stated(Some(SubscriptionState::Active)),
        MockAccountCache::new(),
    );
    assert_eq!(
        service.check_webhooks(&user_id()).await.expect("checked"),
        Some("active")
    );
    assert!(set.lock().expect("lock").is_empty());
}

#[tokio::test]
async fn a_disabled_subscription_is_marked_deleted_made_again_and_the_account_forgotten() {
    let (tokens, set) = watched(subscription(HOOK));
    let mut subscriptions = stated(Some(SubscriptionState::Disabled));
    subscriptions
        .expect_unsubscribe()
        .withf(|_, uri| uri.ends_with(HOOK))
        .times(1)
        .returning(|_, _| Ok(()));
    subscriptions
        .expect_subscribe()
        .times(1)
        .returning(|_, _, _, _, _| Ok("https://api.calendly.com/webhook_subscriptions/NEW".into()));
    let mut cache = MockAccountCache::new();
    cache
        .expect_forget()
        .withf(|account| *account == calendly_user().uri)
        .times(1)
        .returning(|_| ());
    let service = webhook_service(tokens, subscriptions, cache);
    assert_eq!(
        service.check_webhooks(&user_id()).await.expect("checked"),
        Some("active")
    );
    let set = set.lock().expect("lock");
    assert_eq!(set.len(), 2, "{set:?}");
    assert_eq!(set[0].status(), "disabled");
    assert_eq!(set[1].status(), "active");
    assert!(
        set[1]
            .subscription()
            .is_some_and(|s| s.uri.ends_with("/NEW"))
    );
}

#[tokio::test]
async fn a_gone_subscription_that_cannot_be_made_again_stays_disabled() {
    let (tokens, set) = watched(subscription(HOOK));
    let mut subscriptions = stated(None);
    subscriptions
        .expect_subscribe()
        .times(1)
        .returning(|_, _, _, _, _| {
            Err(ProviderError::Unavailable {
                reason: "down".into(),
            })
        });
    let service = webhook_service(tokens, subscriptions, MockAccountCache::new());
    assert_eq!(
        service.check_webhooks(&user_id()).await.expect("checked"),
        Some("disabled")
    );
    let set = set.lock().expect("lock");
    assert_eq!(set.len(), 1, "{set:?}");
    assert_eq!(set[0].status(), "disabled");
}

#[tokio::test]
async fn a_connection_without_the_scopes_of_webhooks_is_not_subscribed_and_gets_no_call() {
    let scoped = CalendlyConnection {
        scopes: Some(Scopes::parse("users:read event_types:read")),
        ..connection()
    };
    let service = webhook_service(
        MockTokenRepository::new(),
        MockWebhookSubscriptions::new(),
        MockAccountCache::new(),
    );
    assert_eq!(service.subscribe(&scoped).await, Webhooks::Unavailable);
}

#[tokio::test]
async fn a_scope_known_to_be_missing_is_refused_without_a_call() {
    let mut tokens = MockTokenRepository::new();
    tokens.expect_load().returning(|_| {
        Ok(Some(Arc::new(CalendlyConnection {
            scopes: Some(Scopes::parse("users:read")),
            ..connection()
        })))
    });
    let service = service(tokens, MockSchedulingProvider::new());
    let refused = service.event_types(&user_id()).await;
    assert!(
        matches!(
            refused,
            Err(GatewayError::Provider(ProviderError::ScopeMissing {
                scope: Scope::EventTypesRead,
                ..
            }))
        ),
        "{refused:?}"
    );
    let refused = service
        .busy_times(
            &user_id(),
            at("2030-01-02T00:00:00Z"),
            at("2030-01-03T00:00:00Z"),
        )
        .await;
    assert!(
        matches!(
            refused,
            Err(GatewayError::Provider(ProviderError::ScopeMissing {
                scope: Scope::AvailabilityRead,
                ..
            }))
        ),
        "{refused:?}"
    );
}

#[tokio::test]
async fn another_users_state_is_spent_and_stores_nothing() {
    let mut starts = crate::ports::MockOAuthStarts::new();
    starts.expect_take_start().times(1).returning(|_, _| {
        Ok(Some(OAuthStart {
            user_id: UserId::parse("the-starter").expect("user"),
            verifier: PkceVerifier::parse("verifier").expect("verifier"),
            expires_at: at(NOW) + TimeDelta::minutes(5),
        }))
    });
    let mut oauth = MockOAuthProvider::new();
    oauth.expect_exchange_code().never();
    let mut tokens = MockTokenRepository::new();
    tokens.expect_save().never();
    let service = SchedulingService::new(
        Ports {
            oauth: Some(Arc::new(oauth)),
            oauth_starts: Arc::new(starts),
            ..ports(tokens, MockSchedulingProvider::new())
        },
        AvailabilityPolicy::default(),
    );
    let completed = service
        .finish_oauth(
            &user_id(),
            OAuthCallback {
                state: Some(OAuthStateToken::parse("state").expect("state")),
                code: Some(AuthorizationCode::parse("code").expect("code")),
                error: None,
            },
        )
        .await;
    assert!(
        matches!(completed, Err(GatewayError::OAuthUserMismatch)),
        "{completed:?}"
    );
}
