//! Connecting with Calendly's OAuth server: the start (where to send the browser) and the
//! callback (the code exchanged for tokens, stored as the user's connection).

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use tracing::instrument;

use super::service::SchedulingService;
use crate::error::{GatewayError, ProviderError, Rejection};
use crate::model::{CalendlyConnection, CalendlyCredential, UserId};
use crate::oauth::{OAuthCallback, OAuthGrant, OAuthStart};
use crate::ports::OAuthProvider;
use crate::scope::Scope;
use crate::webhook::Webhooks;

/// How long a start waits for its callback: as long as Calendly's codes live.
pub const OAUTH_START_LIFETIME: TimeDelta = TimeDelta::minutes(10);

/// The credential a grant made at `now` stands for.
pub(super) fn credential(grant: OAuthGrant, now: DateTime<Utc>) -> CalendlyCredential {
    let lifetime = TimeDelta::from_std(grant.expires_in).unwrap_or(TimeDelta::MAX);
    CalendlyCredential::OAuth {
        access_token: grant.access_token,
        refresh_token: Some(grant.refresh_token),
        issued_at: now,
        expires_at: now.checked_add_signed(lifetime).unwrap_or(now),
    }
}

impl SchedulingService {
    /// The OAuth server, or [`GatewayError::OAuthNotConfigured`].
    pub(super) fn oauth(&self) -> Result<&Arc<dyn OAuthProvider>, GatewayError> {
        self.ports
            .oauth
            .as_ref()
            .ok_or(GatewayError::OAuthNotConfigured)
    }

    /// Starts connecting `user_id` with OAuth: keeps a new start (state and PKCE verifier) for
    /// [`OAUTH_START_LIFETIME`] and answers the URL to send the browser to.
    #[instrument(skip_all, fields(user_id = %user_id))]
    pub async fn start_oauth(&self, user_id: UserId) -> Result<String, GatewayError> {
        let authorization = self.oauth()?.authorization();
        let start = OAuthStart {
            user_id,
            verifier: authorization.verifier,
            expires_at: self.ports.clock.now() + OAUTH_START_LIFETIME,
        };
        self.ports
            .oauth_starts
            .save_start(&authorization.state, &start)
            .await?;
        Ok(authorization.authorize_url)
    }

    /// Finishes an OAuth start for `user_id` (the bearer's user) with what the browser brought
    /// back: the start taken (it works once), checked to be `user_id`'s, the code exchanged
    /// with its verifier, the Calendly user read with the new access token, and the connection
    /// stored, replacing any earlier one. Any failure stores nothing.
    ///
    /// Errors: [`GatewayError::InvalidOAuthState`] (no state, or none kept under it),
    /// [`GatewayError::OAuthUserMismatch`] (another user started it: the start is spent, so
    /// that a link sent to someone else can never connect their account to the sender),
    /// [`GatewayError::AuthorizationDenied`] (the user declined), [`GatewayError::CodeRejected`]
    /// (no code, or Calendly refuses it or the token it granted), and the provider's and the
    /// store's errors.
    #[instrument(skip_all, fields(user_id = %user_id))]
    pub async fn finish_oauth(
        &self,
        user_id: &UserId,
        callback: OAuthCallback,
    ) -> Result<CalendlyConnection, GatewayError> {
        let oauth = self.oauth()?;
        let state = callback.state.ok_or(GatewayError::InvalidOAuthState)?;
        let start = self
            .ports
            .oauth_starts
            .take_start(&state, self.ports.clock.now())
            .await?
            .ok_or(GatewayError::InvalidOAuthState)?;
        if start.user_id != *user_id {
            tracing::warn!(started_by = %start.user_id, "an OAuth start was completed by another user: refused, nothing stored");
            return Err(GatewayError::OAuthUserMismatch);
        }
        match callback.error.as_deref() {
            None => {}
            Some("access_denied") => return Err(GatewayError::AuthorizationDenied),
            Some(other) => {
                return Err(ProviderError::Unavailable {
                    reason: format!("Calendly's authorization ended with error {other:?}"),
                }
                .into());
            }
        }
        let code = callback.code.ok_or(GatewayError::CodeRejected {
            details: serde_json::Value::Null,
        })?;
        let rejected = |error: ProviderError| match error {
            ProviderError::CredentialRejected { details }
            | ProviderError::Rejected {
                reason: Rejection::Forbidden,
                details,
            } => GatewayError::CodeRejected { details },
            other => GatewayError::Provider(other),
        };
        let grant = oauth
            .exchange_code(&code, &start.verifier)
            .await
            .map_err(rejected)?;
        let scopes = grant.scopes.clone();
        if let Some(scopes) = &scopes
            && !scopes.grants(Scope::UsersRead)
        {
            // A grant no connection will hold is given back.
            if let Err(error) = oauth.revoke(&grant.refresh_token).await {
                tracing::warn!(%error, "revoking a grant without users:read failed");
            }
            return Err(ProviderError::ScopeMissing {
                scope: Scope::UsersRead,
                details: serde_json::Value::Null,
            }
            .into());
        }
        let calendly_user = self
            .ports
            .scheduling
            .current_user(&grant.access_token)
            .await
            .map_err(rejected)?;
        let now = self.ports.clock.now();
        let connection = self
            .establish(CalendlyConnection {
                user_id: start.user_id,
                credential: credential(grant, now),
                calendly_user,
                connected_at: now,
                webhooks: Webhooks::Off,
                scopes,
            })
            .await?;
        tracing::info!(
            user_id = %connection.user_id,
            calendly_user = %connection.calendly_user.uri,
            webhooks = connection.webhooks.status(),
            "Calendly account connected with OAuth"
        );
        Ok(connection)
    }

    /// Revokes what `connection` holds at the OAuth server, when it came from there: its
    /// refresh token (which ends the grant), else its access token. A failure is logged and
    /// changes nothing.
    pub(super) async fn revoke(&self, connection: &CalendlyConnection) {
        let CalendlyCredential::OAuth {
            access_token,
            refresh_token,
            ..
        } = &connection.credential
        else {
            return;
        };
        let Ok(oauth) = self.oauth() else {
            tracing::warn!(user_id = %connection.user_id, "an OAuth connection was removed, but OAuth is not configured: its tokens were not revoked");
            return;
        };
        let token = refresh_token.as_ref().unwrap_or(access_token);
        match oauth.revoke(token).await {
            Ok(()) => tracing::info!(user_id = %connection.user_id, "Calendly tokens revoked"),
            Err(error) => tracing::warn!(
                user_id = %connection.user_id,
                error = %error,
                "revoking the Calendly tokens failed; the connection is removed all the same"
            ),
        }
    }
}
