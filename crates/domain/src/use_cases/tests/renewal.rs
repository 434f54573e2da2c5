//! Renewing an OAuth connection's access token: when, under the store's lock, at most once.

use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;

use super::*;
use crate::oauth::OAuthGrant;
use crate::ports::{MockOAuthProvider, RefreshLease};

fn oauth_connection(
    access: &str,
    refresh: Option<&str>,
    issued: &str,
    expires: &str,
) -> CalendlyConnection {
    CalendlyConnection {
        credential: CalendlyCredential::OAuth {
            access_token: CalendlyToken::parse(access).expect("token"),
            refresh_token: refresh.map(|r| CalendlyToken::parse(r).expect("token")),
            issued_at: at(issued),
            expires_at: at(expires),
        },
        ..connection()
    }
}

/// Issued an hour ago, expires in an hour: fresh.
fn fresh(access: &str, refresh: &str) -> CalendlyConnection {
    oauth_connection(
        access,
        Some(refresh),
        "2029-12-31T23:00:00Z",
        "2030-01-01T01:00:00Z",
    )
}

/// Expires in 30 s: due.
pub(super) fn due(access: &str, refresh: &str) -> CalendlyConnection {
    oauth_connection(
        access,
        Some(refresh),
        "2029-12-31T22:00:30Z",
        "2030-01-01T00:00:30Z",
    )
}

pub(super) fn grant(access: &str, refresh: &str) -> OAuthGrant {
    OAuthGrant {
        access_token: CalendlyToken::parse(access).expect("token"),
        refresh_token: CalendlyToken::parse(refresh).expect("token"),
        expires_in: Duration::from_secs(7200),
        owner: calendly_user().uri,
        scopes: None,
    }
}

/// A lease that holds `connection` and records what is committed.
struct RecordingLease {
    connection: CalendlyConnection,
    commits: Arc<Mutex<Vec<CalendlyCredential>>>,
}

#[async_trait]
impl RefreshLease for RecordingLease {
    fn connection(&self) -> &CalendlyConnection {
        &self.connection
    }

    async fn commit(
        self: Box<Self>,
        credential: CalendlyCredential,
    ) -> Result<CalendlyConnection, RepositoryError> {
        self.commits.lock().expect("lock").push(credential.clone());
        Ok(CalendlyConnection {
            credential,
            ..self.connection
        })
    }
}

/// A store holding a connection due for renewal, as it is when locked.
pub(super) fn due_and_locked() -> (MockTokenRepository, Arc<Mutex<Vec<CalendlyCredential>>>) {
    store(
        vec![due("access-1", "refresh-1")],
        Some(due("access-1", "refresh-1")),
    )
}

/// An OAuth server asked for one refresh, answering `answer`.
fn refreshing_once(
    answer: impl Fn() -> Result<OAuthGrant, ProviderError> + Send + 'static,
) -> MockOAuthProvider {
    let mut oauth = MockOAuthProvider::new();
    oauth.expect_refresh().times(1).returning(move |_| answer());
    oauth
}

/// A store whose `load` answers `loads` in turn (the last one from then on), and whose lock
/// holds `locked`; the commits are recorded.
pub(super) fn store(
    loads: Vec<CalendlyConnection>,
    locked: Option<CalendlyConnection>,
) -> (MockTokenRepository, Arc<Mutex<Vec<CalendlyCredential>>>) {
    let commits = Arc::new(Mutex::new(Vec::new()));
    let mut tokens = MockTokenRepository::new();
    let count = AtomicUsize::new(0);
    tokens.expect_load().returning(move |_| {
        let n = count.fetch_add(1, Ordering::SeqCst).min(loads.len() - 1);
        Ok(Some(Arc::new(loads[n].clone())))
    });
    let recorded = Arc::clone(&commits);
    match locked {
        Some(locked) => {
            tokens.expect_lock_for_refresh().returning(move |_| {
                Ok(Some(Box::new(RecordingLease {
                    connection: locked.clone(),
                    commits: Arc::clone(&recorded),
                })))
            });
        }
        None => {
            tokens.expect_lock_for_refresh().never();
        }
    }
    (tokens, commits)
}

fn oauth_service(
    tokens: MockTokenRepository,
    scheduling: MockSchedulingProvider,
    oauth: MockOAuthProvider,
) -> SchedulingService {
    SchedulingService::new(
        Ports {
            oauth: Some(Arc::new(oauth)),
            ..ports(tokens, scheduling)
        },
        AvailabilityPolicy::default(),
    )
}

/// Event types answered for `accepted` alone; any other token is refused with a 401. The
/// tokens each call was made with are recorded.
pub(super) fn scheduling_accepting(
    accepted: &'static str,
) -> (MockSchedulingProvider, Arc<Mutex<Vec<String>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let recorded = Arc::clone(&seen);
    let mut scheduling = MockSchedulingProvider::new();
    scheduling.expect_event_types().returning(move |token, _| {
        recorded
            .lock()
            .expect("lock")
            .push(token.expose().to_owned());
        if token.expose() == accepted {
            Ok(vec![event_type("https://e/1")].into())
        } else {
            Err(ProviderError::CredentialRejected { details: details() })
        }
    });
    (scheduling, seen)
}

#[tokio::test]
async fn a_fresh_access_token_is_used_as_it_is() {
    let (tokens, _) = store(vec![fresh("access-1", "refresh-1")], None);
    let (scheduling, seen) = scheduling_accepting("access-1");
    let mut oauth = MockOAuthProvider::new();
    oauth.expect_refresh().never();
    oauth_service(tokens, scheduling, oauth)
        .event_types(&user_id())
        .await
        .expect("event types");
    assert_eq!(*seen.lock().expect("lock"), ["access-1"]);
}

#[tokio::test]
async fn a_token_due_is_renewed_under_the_lock_and_the_pair_stored_before_it_is_used() {
    let (tokens, commits) = due_and_locked();
    let (scheduling, seen) = scheduling_accepting("access-2");
    let mut oauth = MockOAuthProvider::new();
    oauth
        .expect_refresh()
        .withf(|token| token.expose() == "refresh-1")
        .times(1)
        .returning(|_| Ok(grant("access-2", "refresh-2")));
    oauth_service(tokens, scheduling, oauth)
        .event_types(&user_id())
        .await
        .expect("event types");
    assert_eq!(*seen.lock().expect("lock"), ["access-2"]);
    let commits = commits.lock().expect("lock");
    let [
        CalendlyCredential::OAuth {
            access_token,
            refresh_token,
            issued_at,
            expires_at,
        },
    ] = commits.as_slice()
    else {
        panic!("one OAuth commit: {commits:?}");
    };
    assert_eq!(access_token.expose(), "access-2");
    assert_eq!(
        refresh_token.as_ref().map(CalendlyToken::expose),
        Some("refresh-2")
    );
    assert_eq!(
        (*issued_at, *expires_at),
        (at(NOW), at("2030-01-01T02:00:00Z"))
    );
}

#[tokio::test]
async fn a_renewal_made_meanwhile_is_used_without_spending_the_refresh_token_again() {
    // Read due; by the time the lock is had, another instance has renewed it.
    let (tokens, commits) = store(
        vec![due("access-1", "refresh-1")],
        Some(fresh("access-2", "refresh-2")),
    );
    let (scheduling, seen) = scheduling_accepting("access-2");
    let mut oauth = MockOAuthProvider::new();
    oauth.expect_refresh().never();
    oauth_service(tokens, scheduling, oauth)
        .event_types(&user_id())
        .await
        .expect("event types");
    assert_eq!(*seen.lock().expect("lock"), ["access-2"]);
    assert!(commits.lock().expect("lock").is_empty());
}

#[tokio::test]
async fn a_refused_refresh_token_is_stored_as_spent_and_the_user_must_connect_again() {
    let (tokens, commits) = due_and_locked();
    let (scheduling, seen) = scheduling_accepting("access-2");
    let oauth = refreshing_once(|| Err(ProviderError::CredentialRejected { details: details() }));
    let error = oauth_service(tokens, scheduling, oauth)
        .event_types(&user_id())
        .await
        .expect_err("refused");
    assert!(matches!(error, GatewayError::ReauthRequired), "{error:?}");
    assert!(seen.lock().expect("lock").is_empty());
    let committed = commits.lock().expect("lock").clone();
    assert!(
        matches!(
            committed.as_slice(),
            [CalendlyCredential::OAuth {
                refresh_token: None,
                ..
            }]
        ),
        "{committed:?}"
    );

    // Spent: no token call again.
    let spent = oauth_connection(
        "access-1",
        None,
        "2029-12-31T22:00:30Z",
        "2030-01-01T00:00:30Z",
    );
    let (tokens, _) = store(vec![spent.clone()], Some(spent));
    let mut oauth = MockOAuthProvider::new();
    oauth.expect_refresh().never();
    let error = oauth_service(tokens, scheduling_accepting("access-2").0, oauth)
        .event_types(&user_id())
        .await
        .expect_err("spent");
    assert!(matches!(error, GatewayError::ReauthRequired), "{error:?}");
}

#[tokio::test]
async fn a_refused_access_token_is_renewed_once_and_the_call_made_once_more_never_again() {
    let (tokens, _) = store(
        vec![fresh("access-1", "refresh-1")],
        Some(fresh("access-1", "refresh-1")),
    );
    let (scheduling, seen) = scheduling_accepting("access-2");
    let oauth = refreshing_once(|| Ok(grant("access-2", "refresh-2")));
    oauth_service(tokens, scheduling, oauth)
        .event_types(&user_id())
        .await
        .expect("event types");
    assert_eq!(*seen.lock().expect("lock"), ["access-1", "access-2"]);

    // Calendly refuses the new token too: the error, after two calls and one renewal.
    let (tokens, _) = store(
        vec![fresh("access-1", "refresh-1")],
        Some(fresh("access-1", "refresh-1")),
    );
    let (scheduling, seen) = scheduling_accepting("no-token-at-all");
    let oauth = refreshing_once(|| Ok(grant("access-2", "refresh-2")));
    let error = oauth_service(tokens, scheduling, oauth)
        .event_types(&user_id())
        .await
        .expect_err("refused twice");
    assert!(
        matches!(
            error,
            GatewayError::Provider(ProviderError::CredentialRejected { .. })
        ),
        "{error:?}"
    );
    assert_eq!(*seen.lock().expect("lock"), ["access-1", "access-2"]);
}

#[tokio::test]
async fn a_token_refused_right_after_it_was_issued_is_not_renewed() {
    // Issued 2 s ago, valid for two hours.
    let new = oauth_connection(
        "access-1",
        Some("refresh-1"),
        "2029-12-31T23:59:58Z",
        "2030-01-01T01:59:58Z",
    );
    let (tokens, commits) = store(vec![new.clone()], Some(new));
    let (scheduling, seen) = scheduling_accepting("access-2");
    let mut oauth = MockOAuthProvider::new();
    oauth.expect_refresh().never();
    let error = oauth_service(tokens, scheduling, oauth)
        .event_types(&user_id())
        .await
        .expect_err("refused");
    assert!(
        matches!(
            error,
            GatewayError::Provider(ProviderError::CredentialRejected { .. })
        ),
        "{error:?}"
    );
    assert_eq!(seen.lock().expect("lock").len(), 1);
    assert!(commits.lock().expect("lock").is_empty());
}

#[tokio::test]
async fn after_a_failed_token_call_the_next_waits_for_the_spacing() {
    let (tokens, commits) = due_and_locked();
    let (scheduling, _) = scheduling_accepting("access-2");
    let oauth = refreshing_once(|| Err(ProviderError::Timeout));
    let service = oauth_service(tokens, scheduling, oauth);
    let first = service
        .event_types(&user_id())
        .await
        .expect_err("timed out");
    assert!(
        matches!(first, GatewayError::Provider(ProviderError::Timeout)),
        "{first:?}"
    );
    let second = service.event_types(&user_id()).await.expect_err("held off");
    assert!(
        matches!(
            second,
            GatewayError::Provider(ProviderError::RateLimited { retry_after: Some(wait), .. })
                if wait == Duration::from_millis(7_500)
        ),
        "{second:?}"
    );
    assert!(commits.lock().expect("lock").is_empty());
}
