//! Calendly's webhooks: a subscription made at connect and deleted at disconnect or
//! replacement, and the deliveries, which tell the cache what changed.

use std::sync::Arc;

use futures::FutureExt as _;
use tracing::instrument;

use super::service::SchedulingService;
use crate::error::{GatewayError, ProviderError, Rejection};
use crate::model::{CalendlyConnection, CalendlyCredential, ConnectionMethod, UserId};
use crate::scope::Scope;
use crate::webhook::{Change, HookId, HookSigning, SigningKey, Subscription, Webhooks};

/// A delivery taken in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookReceipt {
    /// The delivery's event (`invitee.created`…); `None` for a body that is not the
    /// provider's JSON (accepted and ignored).
    pub event: Option<String>,
}

impl SchedulingService {
    /// The subscription for `connection` (not yet stored): none when webhooks are off;
    /// `Unavailable` (logged) when the connection lacks a scope it needs, or the provider
    /// refuses or fails. A personal access token's subscription is signed with a random key of
    /// its own; an OAuth token's with the application's key. A subscription with the same URL
    /// (left by an earlier attempt) is replaced, so that its key is the new one.
    pub(super) async fn subscribe(&self, connection: &CalendlyConnection) -> Webhooks {
        let Some(base) = &self.webhooks.public_base_url else {
            return Webhooks::Off;
        };
        let user = &connection.calendly_user;
        let needed = [
            Scope::WebhooksWrite,
            Scope::ScheduledEventsRead,
            Scope::EventTypesRead,
        ];
        if let Some(missing) = needed.into_iter().find(|scope| !connection.may(*scope)) {
            tracing::info!(calendly_user = %user.uri, scope = %missing, "the connection was not granted a scope webhooks need: answers are kept for their TTLs only");
            return Webhooks::Unavailable;
        }
        let Some(organization) = &user.organization else {
            tracing::warn!(calendly_user = %user.uri, "Calendly did not say the user's organization: no webhook subscription");
            return Webhooks::Unavailable;
        };
        let token = connection.credential.access_token();
        let subscriptions = &self.ports.subscriptions;
        let hook = subscriptions.new_hook();
        let signing = match connection.credential.method() {
            ConnectionMethod::PersonalAccessToken => HookSigning::Own(hook.signing_key),
            ConnectionMethod::OAuth => HookSigning::Application,
        };
        let key = match &signing {
            HookSigning::Own(key) => Some(key),
            HookSigning::Application => None,
        };
        let url = format!(
            "{}/calendly/webhooks/{}",
            base.trim_end_matches('/'),
            hook.hook_id
        );
        let subscribe = || subscriptions.subscribe(token, &user.uri, organization, &url, key);
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
                signing,
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
    pub(super) async fn unsubscribed(
        &self,
        connection: Arc<CalendlyConnection>,
    ) -> Arc<CalendlyConnection> {
        if connection.webhooks.subscription().is_none() {
            return connection;
        }
        let fallback = Arc::clone(&connection);
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

    /// Stores `connection` (subscribing it first), replacing the user's earlier one, which is
    /// then retired (see [`Self::retire`]), and forgets what is remembered of the account.
    /// When the store fails, the new subscription is deleted again.
    pub(super) async fn establish(
        &self,
        mut connection: CalendlyConnection,
    ) -> Result<CalendlyConnection, GatewayError> {
        connection.webhooks = self.subscribe(&connection).await;
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
            self.retire(Arc::unwrap_or_clone(earlier)).await;
        }
        Ok(connection)
    }

    /// A replaced connection's subscription deleted and its OAuth grant revoked, with a
    /// usable token: an access token due for renewal is renewed first (the new pair is used
    /// for this and revoked, never stored: the connection is no longer the user's). Failures
    /// are logged and change nothing.
    async fn retire(&self, mut earlier: CalendlyConnection) {
        let now = self.ports.clock.now();
        if earlier.credential.renewal_due(now)
            && let CalendlyCredential::OAuth {
                refresh_token: Some(refresh_token),
                ..
            } = &earlier.credential
            && let Ok(oauth) = self.oauth()
        {
            match oauth.refresh(refresh_token).await {
                Ok(grant) => earlier.credential = super::oauth::credential(grant, now),
                Err(error) => {
                    tracing::warn!(user_id = %earlier.user_id, %error, "renewing the replaced connection's token failed; deleting its subscription and revoking it are tried all the same");
                }
            }
        }
        self.unsubscribe(&earlier).await;
        self.revoke(&earlier).await;
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
        let keys: Vec<&SigningKey> = match &hooked.signing {
            HookSigning::Own(key) => vec![key],
            HookSigning::Application => self.webhooks.application_keys.iter().collect(),
        };
        let delivery = self
            .ports
            .deliveries
            .read(
                &keys,
                signature,
                body,
                self.ports.clock.now(),
                self.webhooks.tolerance,
            )
            .inspect_err(|error| tracing::warn!(%error, signed_by = hooked.signing.as_str(), "a webhook delivery was refused"))?;
        let cache = &self.ports.account_cache;
        match delivery.change {
            Change::Times => cache.forget_times(&hooked.account).await,
            Change::Everything => cache.forget(&hooked.account).await,
            Change::Nothing => {}
        }
        let Some(event) = delivery.event else {
            tracing::warn!(
                bytes = body.len(),
                "a signed webhook delivery is not Calendly's JSON; ignored"
            );
            return Ok(WebhookReceipt { event: None });
        };
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
