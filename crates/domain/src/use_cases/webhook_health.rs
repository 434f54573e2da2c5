//! Webhook health: the provider disables a subscription whose deliveries failed for a day and
//! tells no one; each connection's is looked at now and then, and made again when disabled or
//! gone.

use std::sync::Arc;

use futures::FutureExt as _;
use tracing::instrument;

use super::service::SchedulingService;
use crate::error::GatewayError;
use crate::model::{CalendlyConnection, UserId};
use crate::webhook::{HookId, SubscriptionState, Webhooks};

impl SchedulingService {
    /// Looks at `user_id`'s webhook subscription at the provider and makes a new one when the
    /// provider disabled it or it is gone (a disabled one is deleted first), or when the
    /// connection has none though webhooks are on (the provider refused or failed before).
    /// While it cannot be made again, the connection says `disabled`. A new subscription
    /// forgets what is remembered of the account: deliveries may have been missed. The
    /// webhooks' status as it now is; `None` when webhooks are off or the user has no
    /// connection.
    ///
    /// Errors: the provider's (its rate limit included) and the store's; nothing is changed.
    #[instrument(skip_all, fields(user_id = %user_id))]
    pub async fn check_webhooks(
        &self,
        user_id: &UserId,
    ) -> Result<Option<&'static str>, GatewayError> {
        if self.webhooks.public_base_url.is_none() {
            return Ok(None);
        }
        let Some(connection) = self.ports.tokens.load(user_id).await? else {
            return Ok(None);
        };
        let (connection, state) = self
            .with_renewal(connection, |connection| {
                async move {
                    let state = match connection.webhooks.subscription() {
                        Some(subscription) => {
                            self.ports
                                .subscriptions
                                .state(
                                    connection.credential.access_token(),
                                    &connection.calendly_user.uri,
                                    &subscription.uri,
                                )
                                .await?
                        }
                        None => None,
                    };
                    Ok((connection, state))
                }
                .boxed()
            })
            .await?;
        let expected = connection
            .webhooks
            .subscription()
            .map(|s| s.hook_id.clone());
        let webhooks = match (&connection.webhooks, state) {
            (Webhooks::Active(_), Some(SubscriptionState::Active)) => return Ok(Some("active")),
            (Webhooks::Disabled(subscription), Some(SubscriptionState::Active)) => {
                Webhooks::Active(subscription.clone())
            }
            (_, state) => {
                if let Some(subscription) = connection.webhooks.subscription() {
                    tracing::warn!(
                        state = if state.is_some() { "disabled" } else { "gone" },
                        "the webhook subscription is no longer active at Calendly: making a new one"
                    );
                    let disabled = Webhooks::Disabled(subscription.clone());
                    if disabled != connection.webhooks
                        && !self
                            .store_webhooks(&connection, expected.as_ref(), &disabled)
                            .await?
                    {
                        return Ok(None);
                    }
                    if state.is_some() {
                        self.unsubscribe(&connection).await;
                    }
                }
                match self.subscribe(&connection).await {
                    Webhooks::Active(made) => {
                        self.ports
                            .account_cache
                            .forget(&connection.calendly_user.uri)
                            .await;
                        Webhooks::Active(made)
                    }
                    _ if expected.is_some() => return Ok(Some("disabled")),
                    unchanged if unchanged == connection.webhooks => {
                        return Ok(Some(unchanged.status()));
                    }
                    other => other,
                }
            }
        };
        let stored = self
            .store_webhooks(&connection, expected.as_ref(), &webhooks)
            .await?;
        if !stored {
            // The user connected again or disconnected meanwhile: the new subscription is
            // no one's.
            let orphan = CalendlyConnection {
                webhooks,
                ..Arc::unwrap_or_clone(connection)
            };
            self.unsubscribe(&orphan).await;
            return Ok(None);
        }
        tracing::info!(webhooks = webhooks.status(), "webhook subscription checked");
        Ok(Some(webhooks.status()))
    }

    /// Stores `webhooks` as `connection`'s if its subscription is still `expected`'s.
    async fn store_webhooks(
        &self,
        connection: &CalendlyConnection,
        expected: Option<&HookId>,
        webhooks: &Webhooks,
    ) -> Result<bool, GatewayError> {
        Ok(self
            .ports
            .tokens
            .set_webhooks(&connection.user_id, expected, webhooks)
            .await?)
    }
}
