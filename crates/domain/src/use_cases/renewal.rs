//! Keeping an OAuth connection's access token usable: renewed before it expires, or once after
//! the provider refuses it, with one renewal at a time per connection.
//!
//! Across instances the store's lock ([`TokenRepository::lock_for_refresh`]) lets one renewal
//! run at a time, and whoever waited for it re-reads the connection and uses its result.
//! Inside a process, [`Renewals`] keeps requests for one user from queueing at the store's lock
//! one by one: one goes, the others wait for it and read what it stored.
//!
//! Calendly allows 8 token calls per user a minute. Renewals before expiry come once per token
//! lifetime (two hours); a renewal because Calendly refused a token is made only when the token
//! is older than [`TOKEN_CALL_SPACING`] or has expired, which is at most 8 a minute whichever
//! instance makes them; after a token call that failed, the process makes no other for that user
//! for [`TOKEN_CALL_SPACING`].

use std::sync::Arc;

use futures::FutureExt as _;
use futures::future::BoxFuture;

use super::renewals::TOKEN_CALL_SPACING;
use super::service::SchedulingService;
use crate::error::{GatewayError, ProviderError, RepositoryError};
use crate::model::{CalendlyConnection, CalendlyCredential, CalendlyToken};

/// Why a renewal is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reason {
    /// The access token expires soon.
    Due,
    /// The provider refused the access token.
    Refused,
}

impl SchedulingService {
    /// `connection`, its access token renewed first when it expires soon.
    pub(super) async fn usable(
        &self,
        connection: Arc<CalendlyConnection>,
    ) -> Result<Arc<CalendlyConnection>, GatewayError> {
        if !connection.credential.renewal_due(self.ports.clock.now()) {
            return Ok(connection);
        }
        self.renewed(&connection, Reason::Due).await.map(Arc::new)
    }

    /// What `call` answers for the user's connection (its access token renewed when due). When
    /// the provider refuses an OAuth access token, the token is renewed and `call` made once
    /// more, never again.
    pub(super) async fn with_renewal<'a, T>(
        &'a self,
        connection: Arc<CalendlyConnection>,
        call: impl Fn(Arc<CalendlyConnection>) -> BoxFuture<'a, Result<T, GatewayError>>,
    ) -> Result<T, GatewayError> {
        let connection = self.usable(connection).await?;
        // A personal access token is not renewed: the connection is not needed after the call.
        if !matches!(connection.credential, CalendlyCredential::OAuth { .. }) {
            return call(connection).await;
        }
        match call(Arc::clone(&connection)).await {
            Err(GatewayError::Provider(ProviderError::CredentialRejected { details })) => {
                match self.renewed(&connection, Reason::Refused).await {
                    Ok(renewed) => call(Arc::new(renewed)).await,
                    Err(GatewayError::Provider(ProviderError::CredentialRejected { .. })) => {
                        Err(GatewayError::Provider(ProviderError::CredentialRejected {
                            details,
                        }))
                    }
                    Err(other) => Err(other),
                }
            }
            other => other,
        }
    }

    /// The user's connection with an access token other than `stale`'s: renewed here, or by
    /// whoever renewed it meanwhile, in this process or another.
    ///
    /// The renewal runs detached from the request: once Calendly has been asked, its answer
    /// is stored even when the request is abandoned meanwhile (the client went away), since
    /// the old refresh token is spent by then.
    async fn renewed(
        &self,
        stale: &CalendlyConnection,
        reason: Reason,
    ) -> Result<CalendlyConnection, GatewayError> {
        let (outcome, received) = futures::channel::oneshot::channel();
        let service = self.clone();
        let stale = stale.clone();
        self.ports.tasks.run_detached(
            async move {
                // Nobody may be waiting any more; the renewal is stored all the same.
                let _ = outcome.send(service.renew(&stale, reason).await);
            }
            .boxed(),
        );
        received.await.unwrap_or_else(|_| {
            Err(GatewayError::Repository(RepositoryError::Unexpected(
                "the renewal stopped before it answered".into(),
            )))
        })
    }

    /// [`Self::renewed`], in the task it runs in.
    async fn renew(
        &self,
        stale: &CalendlyConnection,
        reason: Reason,
    ) -> Result<CalendlyConnection, GatewayError> {
        let user = &stale.user_id;
        let stale_token = stale.credential.access_token();
        self.renewals
            .one_at_a_time(user, async {
                // Renewed by someone in this process while this request waited its turn?
                let current = self.connection(user).await?;
                if let Some(fresh) = self.fresh(Arc::unwrap_or_clone(current), stale_token) {
                    return Ok(fresh);
                }
                let lease = self
                    .ports
                    .tokens
                    .lock_for_refresh(user)
                    .await?
                    .ok_or(GatewayError::NotConnected)?;
                // Renewed by another instance while the lock was awaited?
                if let Some(fresh) = self.fresh(lease.connection().clone(), stale_token) {
                    return Ok(fresh);
                }
                let now = self.ports.clock.now();
                let (refresh_token, issued_at, expires_at) = match &lease.connection().credential {
                    CalendlyCredential::OAuth {
                        refresh_token,
                        issued_at,
                        expires_at,
                        ..
                    } => (refresh_token, *issued_at, *expires_at),
                    // Connected again with a personal access token meanwhile.
                    CalendlyCredential::PersonalAccessToken(_) => {
                        return Ok(lease.connection().clone());
                    }
                };
                let Some(refresh_token) = refresh_token.clone() else {
                    return Err(GatewayError::ReauthRequired);
                };
                if reason == Reason::Refused
                    && now - issued_at < TOKEN_CALL_SPACING
                    && now < expires_at
                {
                    // Refused although just issued: a new pair would fare no better, and
                    // renewing at every refusal would overrun Calendly's token limit.
                    return Err(ProviderError::CredentialRejected {
                        details: serde_json::Value::Null,
                    }
                    .into());
                }
                if let Some(wait) = self.renewals.waiting(user, now) {
                    return Err(ProviderError::RateLimited {
                        retry_after: wait.to_std().ok(),
                        details: serde_json::Value::Null,
                    }
                    .into());
                }
                let oauth = self.oauth()?;
                match oauth.refresh(&refresh_token).await {
                    Ok(grant) => {
                        let now = self.ports.clock.now();
                        let renewed = lease.commit(super::oauth::credential(grant, now)).await?;
                        tracing::info!(user_id = %user, "Calendly access token renewed");
                        Ok(renewed)
                    }
                    Err(ProviderError::CredentialRejected { .. }) => {
                        let spent = lease.connection().credential.clone().without_refresh_token();
                        lease.commit(spent).await?;
                        tracing::warn!(user_id = %user, "Calendly refused the refresh token; the user must connect again");
                        Err(GatewayError::ReauthRequired)
                    }
                    Err(other) => {
                        self.renewals.failed(user, self.ports.clock.now());
                        Err(other.into())
                    }
                }
            })
            .await
    }

    /// `current` when its access token is not `stale` and not due for renewal: someone else
    /// renewed it (or the user connected again).
    fn fresh(
        &self,
        current: CalendlyConnection,
        stale: &CalendlyToken,
    ) -> Option<CalendlyConnection> {
        let renewed = current.credential.access_token().expose() != stale.expose();
        let usable = !current.credential.renewal_due(self.ports.clock.now());
        (renewed && usable).then_some(current)
    }
}
