//! How OAuth starts are kept: the state as its hash, the verifier sealed for its purpose.

use chrono::{DateTime, Utc};
use deadpool::managed::Manager;
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, PoolError as ConnectError, PoolableConnection,
};
use domain::{OAuthStart, OAuthStateToken, PkceVerifier, RepositoryError, UserId};
use sha2::{Digest as _, Sha256};

use super::repository::DieselTokenRepository;
use crate::crypto::SealedToken;

/// The purpose a PKCE verifier is sealed for (see [`TokenCipher::seal_for`]).
const VERIFIER_PURPOSE: &str = "oauth_verifier";

/// One row of `calendly_oauth_starts` as `take_start` reads it: user id, sealed verifier, its
/// key id, expiry.
pub(crate) type StoredStart = (String, Vec<u8>, String, DateTime<Utc>);

/// How a state is kept: its SHA-256, in hex. A row read from the database finishes no start.
pub(crate) fn state_hash(state: &OAuthStateToken) -> String {
    Sha256::digest(state.expose().as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

impl<C: PoolableConnection + 'static> DieselTokenRepository<C>
where
    AsyncDieselConnectionManager<C>: Manager<Type = C, Error = ConnectError>,
{
    pub(crate) fn sealed_verifier(&self, start: &OAuthStart) -> SealedToken {
        self.cipher
            .seal_for(VERIFIER_PURPOSE, &start.user_id, start.verifier.expose())
    }

    /// A start as kept; a verifier that does not open is logged and
    /// [`RepositoryError::Undecryptable`].
    pub(crate) fn opened_start(&self, row: StoredStart) -> Result<OAuthStart, RepositoryError> {
        let (user_id, bytes, key_id, expires_at) = row;
        let unexpected = |e: domain::InvalidValue| RepositoryError::Unexpected(Box::new(e));
        let user_id = UserId::parse(user_id).map_err(unexpected)?;
        let sealed = SealedToken { key_id, bytes };
        let verifier = self
            .cipher
            .open_for(VERIFIER_PURPOSE, &user_id, &sealed)
            .map_err(|error| {
                tracing::error!(
                    user_id = %user_id,
                    key_id = %sealed.key_id,
                    error = %error,
                    "a stored OAuth start cannot be decrypted"
                );
                RepositoryError::Undecryptable
            })?;
        Ok(OAuthStart {
            user_id,
            verifier: PkceVerifier::parse(&verifier).map_err(unexpected)?,
            expires_at,
        })
    }
}
