//! Calendly's webhooks: a subscription made at connect and deleted at disconnect or
//! replacement, and the deliveries, which tell the cache what changed.

use chrono::TimeDelta;
use futures::FutureExt as _;
use serde::Deserialize;
use tracing::instrument;

use super::CalendlyService;
use crate::error::{GatewayError, ProviderError, Rejection};
use crate::model::{CalendlyConnection, CalendlyToken, CalendlyUser, UserId};
use crate::webhook::{HookId, Subscription, Webhooks, verify_signature};

/// Whether, and how, connections subscribe to the provider's webhooks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookPolicy {
    /// The gateway's base URL as the provider reaches it; `None`: no subscriptions.
    pub public_base_url: Option<String>,
    /// How far a delivery's signature time may lie from now, either way.
    pub tolerance: TimeDelta,
}

impl Default for WebhookPolicy {
    fn default() -> Self {
        Self {
            public_base_url: None,
            tolerance: TimeDelta::seconds(180),
        }
    }
}

/// A delivery taken in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookReceipt {
    /// The delivery's event (`invitee.created`…); `None` for a body that is not the
    /// provider's JSON (accepted and ignored).
    pub event: Option<String>,
}

#[derive(Deserialize)]
struct Delivery {
    event: String,
}

impl CalendlyService {
    /// The subscription for a new connection of `user` made with `token`: none when webhooks
    /// are off; `Unavailable` (logged) when the provider refuses or fails. A subscription with
    /// the same URL (left by an earlier attempt) is replaced, so that its key is the new one.
    pub(super) async fn subscribe(&self, token: &CalendlyToken, user: &CalendlyUser) -> Webhooks {
        let Some(base) = &self.webhooks.public_base_url else {
            return Webhooks::Off;
        };
        let Some(organization) = &user.organization else {
            tracing::warn!(calendly_user = %user.uri, "Calendly did not say the user's organization: no webhook subscription");
            return Webhooks::Unavailable;
        };
        let subscriptions = &self.ports.subscriptions;
        let hook = subscriptions.new_hook();
        let url = format!(
            "{}/calendly/webhooks/{}",
            base.trim_end_matches('/'),
            hook.hook_id
        );
        let subscribe =
            || subscriptions.subscribe(token, &user.uri, organization, &url, &hook.signing_key);
        let mut made = subscribe().await;
        if let Err(ProviderError::Rejected {
            reason: Rejection::Conflict,
            ..
        }) = &made
            && let Ok(Some(existing)) = subscriptions
                .find(token, &user.uri, organization, &url)
                .await
            && subscriptions.unsubscribe(token, &existing).await.is_ok()
        {
            made = subscribe().await;
        }
        match made {
            Ok(uri) => Webhooks::Active(Subscription {
                hook_id: hook.hook_id,
                signing_key: hook.signing_key,
                uri,
            }),
            Err(ProviderError::Rejected {
                reason: Rejection::Forbidden,
                ..
            }) => {
                tracing::info!(calendly_user = %user.uri, "Calendly refused a webhook subscription (a plan without webhooks): answers are kept for their TTLs only");
                Webhooks::Unavailable
            }
            Err(error) => {
                tracing::warn!(calendly_user = %user.uri, %error, "the webhook subscription failed: answers are kept for their TTLs only");
                Webhooks::Unavailable
            }
        }
    }

    /// Deletes `connection`'s subscription at the provider, if it has one; a failure is logged
    /// and changes nothing (the provider disables a subscription whose deliveries keep
    /// failing, and a delivery for a hook no connection has is refused).
    pub(super) async fn unsubscribe(&self, connection: &CalendlyConnection) {
        if connection.webhooks.subscription().is_none() {
            return;
        }
        let deleted = self.delete_subscription(connection).await;
        report_unsubscribed(&connection.user_id, deleted);
    }

    /// `connection`, its subscription deleted at the provider (its access token renewed first
    /// when due): the connection as it is now. A failure is logged and changes nothing.
    pub(super) async fn unsubscribed(&self, connection: CalendlyConnection) -> CalendlyConnection {
        if connection.webhooks.subscription().is_none() {
            return connection;
        }
        let fallback = connection.clone();
        let deleted = self
            .with_renewal(connection, |connection| {
                async move {
                    self.delete_subscription(&connection).await?;
                    Ok(connection)
                }
                .boxed()
            })
            .await;
        match deleted {
            Ok(connection) => {
                report_unsubscribed(&connection.user_id, Ok::<(), GatewayError>(()));
                connection
            }
            Err(error) => {
                report_unsubscribed(&fallback.user_id, Err(error));
                fallback
            }
        }
    }

    /// Deletes `connection`'s subscription at the provider with its access token, if it has one.
    async fn delete_subscription(
        &self,
        connection: &CalendlyConnection,
    ) -> Result<(), ProviderError> {
        let Some(subscription) = connection.webhooks.subscription() else {
            return Ok(());
        };
        self.ports
            .subscriptions
            .unsubscribe(connection.credential.access_token(), &subscription.uri)
            .await
    }

    /// Stores `connection` (subscribing it first), replacing the user's earlier one, whose
    /// subscription is then deleted, and forgets what is remembered of the account. When the
    /// store fails, the new subscription is deleted again.
    pub(super) async fn establish(
        &self,
        mut connection: CalendlyConnection,
    ) -> Result<CalendlyConnection, GatewayError> {
        let token = connection.credential.access_token().clone();
        connection.webhooks = self.subscribe(&token, &connection.calendly_user).await;
        // A connection that no longer decrypts is replaced all the same.
        let earlier = self
            .ports
            .tokens
            .load(&connection.user_id)
            .await
            .ok()
            .flatten();
        if let Err(error) = self.ports.tokens.save(&connection).await {
            self.unsubscribe(&connection).await;
            return Err(error.into());
        }
        self.ports
            .account_cache
            .forget(&connection.calendly_user.uri)
            .await;
        if let Some(earlier) = earlier {
            self.unsubscribe(&earlier).await;
        }
        Ok(connection)
    }

    /// Takes in a delivery for `hook_id`: its `signature` (the header) must hold for `body`
    /// under the hook's key. `invitee.*` forgets the account's available and busy times,
    /// `event_type.*` also its event types; other events, and a body that is not JSON with an
    /// `event` (logged), change nothing.
    ///
    /// Errors: [`GatewayError::HookNotFound`], [`GatewayError::InvalidSignature`], and the
    /// store's.
    #[instrument(skip_all, fields(hook_id = %hook_id))]
    pub async fn receive_webhook(
        &self,
        hook_id: &HookId,
        signature: Option<&str>,
        body: &[u8],
    ) -> Result<WebhookReceipt, GatewayError> {
        let hooked = self
            .ports
            .tokens
            .find_hook(hook_id)
            .await?
            .ok_or(GatewayError::HookNotFound)?;
        verify_signature(
            &hooked.signing_key,
            signature,
            body,
            self.ports.clock.now(),
            self.webhooks.tolerance,
        )
        .inspect_err(|error| tracing::warn!(%error, "a webhook delivery was refused"))?;
        let Ok(Delivery { event }) = serde_json::from_slice::<Delivery>(body) else {
            tracing::warn!(
                bytes = body.len(),
                "a signed webhook delivery is not Calendly's JSON; ignored"
            );
            return Ok(WebhookReceipt { event: None });
        };
        let cache = &self.ports.account_cache;
        if event.starts_with("invitee.") {
            cache.forget_times(&hooked.account).await;
        } else if event.starts_with("event_type.") {
            cache.forget(&hooked.account).await;
        }
        tracing::info!(%event, user_id = %hooked.user_id, "webhook delivery accepted");
        Ok(WebhookReceipt { event: Some(event) })
    }
}

/// Logs how deleting a user's webhook subscription went.
fn report_unsubscribed<E: std::fmt::Display>(user_id: &UserId, deleted: Result<(), E>) {
    match deleted {
        Ok(()) => tracing::info!(user_id = %user_id, "webhook subscription deleted"),
        Err(error) => {
            tracing::warn!(user_id = %user_id, %error, "deleting the webhook subscription failed");
        }
    }
}
