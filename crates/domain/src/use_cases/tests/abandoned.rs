//! A renewal outlives the request that started it.

use async_trait::async_trait;

use super::renewal::{due_and_locked, grant, scheduling_accepting};
use super::*;
use crate::oauth::OAuthGrant;

/// An OAuth server that takes a second to renew.
struct SlowOAuth;

#[async_trait]
impl crate::ports::OAuthProvider for SlowOAuth {
    fn authorization(&self) -> crate::oauth::OAuthAuthorization {
        unreachable!("not started here")
    }

    async fn exchange_code(
        &self,
        _: &crate::oauth::AuthorizationCode,
        _: &crate::oauth::PkceVerifier,
    ) -> Result<OAuthGrant, ProviderError> {
        unreachable!("no callback here")
    }

    async fn refresh(&self, _: &CalendlyToken) -> Result<OAuthGrant, ProviderError> {
        tokio::time::sleep(Duration::from_secs(1)).await;
        Ok(grant("access-2", "refresh-2"))
    }

    async fn revoke(&self, _: &CalendlyToken) -> Result<(), ProviderError> {
        Ok(())
    }
}

#[tokio::test(start_paused = true)]
async fn a_renewal_is_stored_even_when_the_request_is_abandoned_while_it_runs() {
    let (tokens, commits) = due_and_locked();
    let (scheduling, _) = scheduling_accepting("access-2");
    let service = SchedulingService::new(
        Ports {
            oauth: Some(Arc::new(SlowOAuth)),
            ..ports(tokens, scheduling)
        },
        AvailabilityPolicy::default(),
    );
    // The request is dropped half way through the renewal.
    let abandoned =
        tokio::time::timeout(Duration::from_millis(500), service.event_types(&user_id())).await;
    assert!(abandoned.is_err(), "abandoned");
    tokio::time::sleep(Duration::from_secs(1)).await;
    let committed = commits.lock().expect("lock").clone();
    assert!(
        matches!(committed.as_slice(), [CalendlyCredential::OAuth { access_token, .. }] if access_token.expose() == "access-2"),
        "{committed:?}"
    );
}
