//! A connection as a stored row and back: its secrets (the token, the refresh token, the
//! webhook signing key) sealed each for its purpose, opened again, and sealed anew when keys
//! rotate.

use chrono::Utc;
use deadpool::managed::Manager;
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, PoolError as ConnectError, PoolableConnection,
};
use domain::{
    CalendlyConnection, CalendlyCredential, CalendlyToken, CalendlyUser, CalendlyUserUri, HookId,
    HookSigning, HookedAccount, RepositoryError, Scopes, SigningKey, Subscription, UserId,
    Webhooks,
};

use super::repository::DieselTokenRepository;
use super::stored::StoredConnection;
use crate::crypto::{SealedToken, TokenCipher};

/// `connection` as a row, its tokens sealed with `cipher`'s current key.
pub(crate) fn stored_row(
    cipher: &TokenCipher,
    connection: &CalendlyConnection,
) -> StoredConnection {
    {
        let user_id = &connection.user_id;
        let credential = &connection.credential;
        let sealed = cipher.seal(user_id, credential.access_token());
        let (refresh_token_ciphertext, access_token_issued_at, access_token_expires_at) =
            match credential {
                CalendlyCredential::PersonalAccessToken(_) => (None, None, None),
                CalendlyCredential::OAuth {
                    refresh_token,
                    issued_at,
                    expires_at,
                    ..
                } => (
                    refresh_token
                        .as_ref()
                        .map(|token| sealed_refresh_token(cipher, user_id, token).bytes),
                    Some(*issued_at),
                    Some(*expires_at),
                ),
            };
        let user = &connection.calendly_user;
        let webhooks = stored_webhooks(cipher, user_id, &connection.webhooks);
        StoredConnection {
            user_id: user_id.as_str().to_owned(),
            token_ciphertext: sealed.bytes,
            token_key_id: sealed.key_id,
            calendly_user_uri: user.uri.as_str().to_owned(),
            name: user.name.clone(),
            email: user.email.clone(),
            scheduling_url: user.scheduling_url.clone(),
            timezone: user.timezone.clone(),
            connected_at: connection.connected_at,
            updated_at: Utc::now(),
            method: credential.method().as_str().to_owned(),
            refresh_token_ciphertext,
            access_token_expires_at,
            access_token_issued_at,
            calendly_organization_uri: user.organization.clone(),
            webhook_status: webhooks.status.to_owned(),
            hook_id: webhooks.hook_id,
            webhook_key_ciphertext: webhooks.key_ciphertext,
            webhook_subscription_uri: webhooks.subscription_uri,
            webhook_signed_by: webhooks.signed_by.to_owned(),
            webhook_disabled: webhooks.disabled,
            scopes: connection.scopes.as_ref().map(Scopes::joined),
            webhook_check_due_at: None,
        }
    }
}

/// A connection's webhook columns as stored: a disabled subscription is `active` with
/// `webhook_disabled` set; a subscription's own key is sealed for `user_id` (none is kept for
/// one signed with the application's key).
pub(crate) struct StoredWebhooks {
    pub status: &'static str,
    pub hook_id: Option<String>,
    pub key_ciphertext: Option<Vec<u8>>,
    pub subscription_uri: Option<String>,
    pub signed_by: &'static str,
    pub disabled: bool,
}

/// `webhooks` as [`StoredWebhooks`], a key of its own sealed with `cipher`'s current key.
pub(crate) fn stored_webhooks(
    cipher: &TokenCipher,
    user_id: &UserId,
    webhooks: &Webhooks,
) -> StoredWebhooks {
    let subscription = webhooks.subscription();
    StoredWebhooks {
        status: match webhooks {
            Webhooks::Disabled(_) => "active",
            other => other.status(),
        },
        hook_id: subscription.map(|s| s.hook_id.as_str().to_owned()),
        key_ciphertext: subscription.and_then(|s| match &s.signing {
            HookSigning::Own(key) => Some(
                cipher
                    .seal_for(WEBHOOK_KEY_PURPOSE, user_id, key.expose())
                    .bytes,
            ),
            HookSigning::Application => None,
        }),
        subscription_uri: subscription.map(|s| s.uri.clone()),
        signed_by: subscription.map_or("subscription", |s| s.signing.as_str()),
        disabled: matches!(webhooks, Webhooks::Disabled(_)),
    }
}

pub(super) fn sealed_refresh_token(
    cipher: &TokenCipher,
    user_id: &UserId,
    token: &CalendlyToken,
) -> SealedToken {
    cipher.seal_for(REFRESH_TOKEN_PURPOSE, user_id, token.expose())
}

impl<C: PoolableConnection + 'static> DieselTokenRepository<C>
where
    AsyncDieselConnectionManager<C>: Manager<Type = C, Error = ConnectError>,
{
    /// The token `sealed` holds for `user_id`; one that does not open is logged, and
    /// [`RepositoryError::Undecryptable`].
    fn opened(
        &self,
        user_id: &UserId,
        sealed: &SealedToken,
    ) -> Result<CalendlyToken, RepositoryError> {
        self.cipher.open(user_id, sealed).map_err(|error| {
            tracing::error!(
                user_id = %user_id,
                key_id = %sealed.key_id,
                error = %error,
                "a stored Calendly token cannot be decrypted; the user must reconnect"
            );
            RepositoryError::Undecryptable
        })
    }

    /// A stored token (and the refresh token and webhook signing key beside it, if any) sealed
    /// again with the current key; `None` (logged) when one cannot be opened, and then the row
    /// is left as it is.
    pub(crate) fn resealed(
        &self,
        user_id: &str,
        sealed: &SealedToken,
        refresh_token: Option<Vec<u8>>,
        webhook_key: Option<Vec<u8>>,
    ) -> Option<Resealed> {
        let user = match UserId::parse(user_id) {
            Ok(user) => user,
            Err(error) => {
                tracing::error!(user_id, %error, "a stored connection has an unreadable user id; its token is left as it is");
                return None;
            }
        };
        let token = self.opened(&user, sealed).ok()?;
        let refresh_token = match refresh_token {
            Some(bytes) => {
                let token = self
                    .opened_refresh_token(&user, &sealed.key_id, bytes)
                    .ok()?;
                Some(self.sealed_refresh_token(&user, &token).bytes)
            }
            None => None,
        };
        let webhook_key = match webhook_key {
            Some(bytes) => {
                let key = self.opened_signing_key(&user, &sealed.key_id, bytes).ok()?;
                Some(
                    self.cipher
                        .seal_for(WEBHOOK_KEY_PURPOSE, &user, key.expose())
                        .bytes,
                )
            }
            None => None,
        };
        Some((self.cipher.seal(&user, &token), refresh_token, webhook_key))
    }

    /// The secret sealed for `purpose` beside an access token under `key_id`, read by `read`;
    /// one that does not open or read is logged (as `what`), and
    /// [`RepositoryError::Undecryptable`].
    fn opened_for<T>(
        &self,
        (purpose, what): (&str, &str),
        user_id: &UserId,
        key_id: &str,
        bytes: Vec<u8>,
        read: impl FnOnce(String) -> Option<T>,
    ) -> Result<T, RepositoryError> {
        let sealed = SealedToken {
            key_id: key_id.to_owned(),
            bytes,
        };
        self.cipher
            .open_for(purpose, user_id, &sealed)
            .ok()
            .and_then(read)
            .ok_or_else(|| {
                tracing::error!(
                    user_id = %user_id,
                    key_id,
                    "a stored {what} cannot be decrypted; the user must reconnect"
                );
                RepositoryError::Undecryptable
            })
    }

    /// The refresh token sealed beside an access token under `key_id`.
    fn opened_refresh_token(
        &self,
        user_id: &UserId,
        key_id: &str,
        bytes: Vec<u8>,
    ) -> Result<CalendlyToken, RepositoryError> {
        let read = |text: String| CalendlyToken::parse(&text).ok();
        let purpose = (REFRESH_TOKEN_PURPOSE, "Calendly refresh token");
        self.opened_for(purpose, user_id, key_id, bytes, read)
    }

    pub(crate) fn restored(
        &self,
        row: StoredConnection,
    ) -> Result<CalendlyConnection, RepositoryError> {
        let unexpected = |e: domain::InvalidValue| RepositoryError::Unexpected(Box::new(e));
        let user_id = UserId::parse(row.user_id).map_err(unexpected)?;
        let sealed = SealedToken {
            key_id: row.token_key_id,
            bytes: row.token_ciphertext,
        };
        let access_token = self.opened(&user_id, &sealed)?;
        let credential = match (
            row.method.as_str(),
            row.refresh_token_ciphertext,
            row.access_token_issued_at,
            row.access_token_expires_at,
        ) {
            ("oauth", refresh, Some(issued_at), Some(expires_at)) => CalendlyCredential::OAuth {
                refresh_token: refresh
                    .map(|refresh| self.opened_refresh_token(&user_id, &sealed.key_id, refresh))
                    .transpose()?,
                access_token,
                issued_at,
                expires_at,
            },
            ("personal_access_token", None, None, None) => {
                CalendlyCredential::PersonalAccessToken(access_token)
            }
            (method, ..) => {
                return Err(RepositoryError::Unexpected(
                    format!("a stored connection of method {method:?} is incomplete").into(),
                ));
            }
        };
        let webhooks = match (
            row.webhook_status.as_str(),
            row.hook_id,
            row.webhook_key_ciphertext,
            row.webhook_subscription_uri,
        ) {
            ("off", None, None, None) => Webhooks::Off,
            ("unavailable", None, None, None) => Webhooks::Unavailable,
            ("active", Some(hook_id), key, Some(uri)) => {
                let subscription = Subscription {
                    hook_id: HookId::parse(hook_id).map_err(unexpected)?,
                    signing: self.signing(&user_id, &sealed.key_id, &row.webhook_signed_by, key)?,
                    uri,
                };
                if row.webhook_disabled {
                    Webhooks::Disabled(subscription)
                } else {
                    Webhooks::Active(subscription)
                }
            }
            (status, ..) => {
                return Err(RepositoryError::Unexpected(
                    format!("a stored connection's webhooks ({status:?}) are incomplete").into(),
                ));
            }
        };
        Ok(CalendlyConnection {
            user_id,
            credential,
            calendly_user: CalendlyUser {
                uri: CalendlyUserUri::parse(row.calendly_user_uri).map_err(unexpected)?,
                name: row.name,
                email: row.email,
                scheduling_url: row.scheduling_url,
                timezone: row.timezone,
                organization: row.calendly_organization_uri,
            },
            connected_at: row.connected_at,
            webhooks,
            scopes: row.scopes.as_deref().map(Scopes::parse),
        })
    }

    /// A row of `find_hook`: the user, the account and whose key signs.
    pub(crate) fn hooked(
        &self,
        (user_id, account, key_id, signed_by, key): HookRow,
    ) -> Result<HookedAccount, RepositoryError> {
        let unexpected = |e: domain::InvalidValue| RepositoryError::Unexpected(Box::new(e));
        let user_id = UserId::parse(user_id).map_err(unexpected)?;
        Ok(HookedAccount {
            signing: self.signing(&user_id, &key_id, &signed_by, key)?,
            account: CalendlyUserUri::parse(account).map_err(unexpected)?,
            user_id,
        })
    }

    /// Whose key signs a subscription stored as signed by `signed_by`, its own key opened.
    fn signing(
        &self,
        user_id: &UserId,
        key_id: &str,
        signed_by: &str,
        key: Option<Vec<u8>>,
    ) -> Result<HookSigning, RepositoryError> {
        match (signed_by, key) {
            ("subscription", Some(key)) => Ok(HookSigning::Own(
                self.opened_signing_key(user_id, key_id, key)?,
            )),
            ("application", None) => Ok(HookSigning::Application),
            (signed_by, _) => Err(RepositoryError::Unexpected(
                format!("a stored webhook signed by {signed_by:?} is incomplete").into(),
            )),
        }
    }

    /// The webhook signing key sealed beside an access token under `key_id`.
    pub(crate) fn opened_signing_key(
        &self,
        user_id: &UserId,
        key_id: &str,
        bytes: Vec<u8>,
    ) -> Result<SigningKey, RepositoryError> {
        let purpose = (WEBHOOK_KEY_PURPOSE, "webhook signing key");
        self.opened_for(purpose, user_id, key_id, bytes, |text| {
            Some(SigningKey::new(text))
        })
    }
}

/// What `find_hook` reads: the user, the account, the access token's key id, whose key signs,
/// and the sealed key of its own.
pub(crate) type HookRow = (String, String, String, String, Option<Vec<u8>>);

/// A row's secrets sealed again: the access token, and the refresh token's and webhook
/// signing key's ciphertexts, when there are those.
pub(crate) type Resealed = (SealedToken, Option<Vec<u8>>, Option<Vec<u8>>);

/// The purpose a refresh token is sealed for (see [`TokenCipher::seal_for`]).
const REFRESH_TOKEN_PURPOSE: &str = "refresh_token";

/// The purpose a webhook signing key is sealed for.
pub(crate) const WEBHOOK_KEY_PURPOSE: &str = "webhook_signing_key";

impl<C: PoolableConnection + 'static> DieselTokenRepository<C>
where
    AsyncDieselConnectionManager<C>: Manager<Type = C, Error = ConnectError>,
{
    pub(crate) fn stored(&self, connection: &CalendlyConnection) -> StoredConnection {
        stored_row(&self.cipher(), connection)
    }

    /// A refresh token sealed with the current key, for its purpose (it never opens as an
    /// access token, nor the other way round).
    fn sealed_refresh_token(&self, user_id: &UserId, token: &CalendlyToken) -> SealedToken {
        sealed_refresh_token(&self.cipher(), user_id, token)
    }
}
