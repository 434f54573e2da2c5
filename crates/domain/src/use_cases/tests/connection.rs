//! Connecting, disconnecting, the connection, the user URI and event types.

use super::*;

// --- connect -------------------------------------------------------------------------------

#[tokio::test]
async fn connect_checks_the_token_then_stores_it_with_the_calendly_user() {
    let mut scheduling = MockSchedulingProvider::new();
    scheduling
        .expect_current_user()
        .withf(|token| token.expose() == "calendly-pat")
        .times(1)
        .returning(|_| Ok(calendly_user()));
    let mut tokens = MockTokenRepository::new();
    // Nothing connected before.
    tokens.expect_load().returning(|_| Ok(None));
    tokens
        .expect_save()
        .withf(|c| {
            c.user_id == user_id()
                && c.credential.access_token().expose() == "calendly-pat"
                && c.calendly_user == calendly_user()
                && c.connected_at == at(NOW)
        })
        .times(1)
        .returning(|_| Ok(()));

    let connection = service(tokens, scheduling)
        .connect(user_id(), token())
        .await
        .expect("connected");

    assert_eq!(connection.calendly_user, calendly_user());
    assert_eq!(connection.connected_at, at(NOW));
}

#[tokio::test]
async fn connect_with_a_token_calendly_refuses_stores_nothing() {
    for refusal in [
        ProviderError::CredentialRejected { details: details() },
        ProviderError::Rejected {
            reason: Rejection::Forbidden,
            details: details(),
        },
    ] {
        let refusal = Mutex::new(Some(refusal));
        let mut scheduling = MockSchedulingProvider::new();
        scheduling
            .expect_current_user()
            .returning(move |_| Err(refusal.lock().expect("lock").take().expect("called once")));
        let mut tokens = MockTokenRepository::new();
        tokens.expect_save().never();

        let error = service(tokens, scheduling)
            .connect(user_id(), token())
            .await
            .expect_err("refused");

        assert!(
            matches!(&error, GatewayError::TokenRejected { details: d } if *d == details()),
            "{error:?}"
        );
    }
}

#[tokio::test]
async fn connect_when_calendly_fails_passes_the_failure_on_and_stores_nothing() {
    let mut scheduling = MockSchedulingProvider::new();
    scheduling
        .expect_current_user()
        .returning(|_| Err(ProviderError::Timeout));
    let mut tokens = MockTokenRepository::new();
    tokens.expect_save().never();

    let error = service(tokens, scheduling)
        .connect(user_id(), token())
        .await
        .expect_err("timed out");

    assert!(matches!(
        error,
        GatewayError::Provider(ProviderError::Timeout)
    ));
}

#[tokio::test]
async fn connect_when_the_store_is_down_reports_it() {
    let mut scheduling = MockSchedulingProvider::new();
    scheduling
        .expect_current_user()
        .returning(|_| Ok(calendly_user()));
    let mut tokens = MockTokenRepository::new();
    // Nothing connected before.
    tokens.expect_load().returning(|_| Ok(None));
    tokens
        .expect_save()
        .returning(|_| Err(RepositoryError::Unavailable("refused".into())));

    let error = service(tokens, scheduling)
        .connect(user_id(), token())
        .await
        .expect_err("store down");

    assert!(matches!(
        error,
        GatewayError::Repository(RepositoryError::Unavailable(_))
    ));
}

// --- disconnect and connection status ------------------------------------------------------

#[tokio::test]
async fn disconnect_succeeds_whether_or_not_there_was_a_connection() {
    for existed in [true, false] {
        let mut tokens = MockTokenRepository::new();
        tokens
            .expect_load()
            .returning(move |_| Ok(existed.then(|| Arc::new(connection()))));
        tokens
            .expect_delete()
            .with(eq(user_id()))
            .times(1)
            .returning(move |_| Ok(existed));
        service(tokens, MockSchedulingProvider::new())
            .disconnect(&user_id())
            .await
            .expect("disconnected");
    }
}

#[tokio::test]
async fn disconnect_reports_a_store_failure() {
    let mut tokens = MockTokenRepository::new();
    tokens
        .expect_load()
        .returning(|_| Err(RepositoryError::Unavailable("down".into())));
    tokens
        .expect_delete()
        .returning(|_| Err(RepositoryError::Unavailable("down".into())));
    let error = service(tokens, MockSchedulingProvider::new())
        .disconnect(&user_id())
        .await
        .expect_err("store down");
    assert!(matches!(error, GatewayError::Repository(_)));
}

#[tokio::test]
async fn connection_status_is_the_stored_connection_or_not_connected() {
    let found = service(connected_repository(), MockSchedulingProvider::new())
        .connection(&user_id())
        .await
        .expect("connected");
    assert_eq!(found.calendly_user, calendly_user());

    let mut tokens = MockTokenRepository::new();
    tokens.expect_load().returning(|_| Ok(None));
    let error = service(tokens, MockSchedulingProvider::new())
        .connection(&user_id())
        .await
        .expect_err("not connected");
    assert!(matches!(error, GatewayError::NotConnected));
}

#[tokio::test]
async fn an_undecryptable_token_is_reported_as_such() {
    let mut tokens = MockTokenRepository::new();
    tokens
        .expect_load()
        .returning(|_| Err(RepositoryError::Undecryptable));
    let error = service(tokens, MockSchedulingProvider::new())
        .event_types(&user_id())
        .await
        .expect_err("undecryptable");
    assert!(matches!(
        error,
        GatewayError::Repository(RepositoryError::Undecryptable)
    ));
}

// --- user URI and event types --------------------------------------------------------------

#[tokio::test]
async fn user_uri_comes_from_the_stored_connection_without_calling_calendly() {
    // A provider mock without expectations fails the test if it is called.
    let uri = service(connected_repository(), MockSchedulingProvider::new())
        .user_uri(&user_id())
        .await
        .expect("uri");
    assert_eq!(uri, calendly_user().uri);
}

#[tokio::test]
async fn user_uri_of_a_user_without_connection_is_not_connected() {
    let mut tokens = MockTokenRepository::new();
    tokens.expect_load().returning(|_| Ok(None));
    let error = service(tokens, MockSchedulingProvider::new())
        .user_uri(&user_id())
        .await
        .expect_err("not connected");
    assert!(matches!(error, GatewayError::NotConnected));
}

#[tokio::test]
async fn event_types_are_fetched_with_the_stored_token_and_user() {
    let mut scheduling = MockSchedulingProvider::new();
    scheduling
        .expect_event_types()
        .withf(|token, user| token.expose() == "calendly-pat" && *user == calendly_user().uri)
        .times(1)
        .returning(|_, _| {
            Ok(Arc::from(vec![
                event_type("https://e/1"),
                event_type("https://e/2"),
            ]))
        });

    let event_types = service(connected_repository(), scheduling)
        .event_types(&user_id())
        .await
        .expect("event types");

    let uris: Vec<&str> = event_types.iter().map(|e| e.uri.as_str()).collect();
    assert_eq!(uris, ["https://e/1", "https://e/2"]);
}

#[tokio::test]
async fn event_types_pass_a_provider_error_on() {
    let mut scheduling = MockSchedulingProvider::new();
    scheduling
        .expect_event_types()
        .returning(|_, _| Err(ProviderError::CredentialRejected { details: details() }));
    let error = service(connected_repository(), scheduling)
        .event_types(&user_id())
        .await
        .expect_err("rejected");
    assert!(matches!(
        error,
        GatewayError::Provider(ProviderError::CredentialRejected { .. })
    ));
}

// --- what is remembered of an account ------------------------------------------------------

#[tokio::test]
async fn connecting_forgets_what_is_remembered_of_the_account_after_storing() {
    let mut sequence = mockall::Sequence::new();
    let mut scheduling = MockSchedulingProvider::new();
    scheduling
        .expect_current_user()
        .returning(|_| Ok(calendly_user()));
    let mut tokens = MockTokenRepository::new();
    // Nothing connected before.
    tokens.expect_load().returning(|_| Ok(None));
    tokens
        .expect_save()
        .times(1)
        .in_sequence(&mut sequence)
        .returning(|_| Ok(()));
    let mut cache = MockAccountCache::new();
    cache
        .expect_forget()
        .with(eq(calendly_user().uri))
        .times(1)
        .in_sequence(&mut sequence)
        .returning(|_| ());

    service_with_cache(tokens, scheduling, cache)
        .connect(user_id(), token())
        .await
        .expect("connected");
}

#[tokio::test]
async fn a_refused_connect_forgets_nothing() {
    let mut scheduling = MockSchedulingProvider::new();
    scheduling
        .expect_current_user()
        .returning(|_| Err(ProviderError::CredentialRejected { details: details() }));
    let mut cache = MockAccountCache::new();
    cache.expect_forget().never();
    let error = service_with_cache(MockTokenRepository::new(), scheduling, cache)
        .connect(user_id(), token())
        .await
        .expect_err("refused");
    assert!(matches!(error, GatewayError::TokenRejected { .. }));
}

#[tokio::test]
async fn event_types_are_asked_for_the_connected_account_with_its_token() {
    let mut scheduling = MockSchedulingProvider::new();
    scheduling
        .expect_event_types()
        .withf(|token, account| token.expose() == "calendly-pat" && *account == calendly_user().uri)
        .times(1)
        .returning(|_, _| Ok(Arc::from(vec![event_type("https://e/1")])));
    scheduling
        .expect_available_times()
        .withf(|token, _, event_type, _| {
            token.expose() == "calendly-pat" && event_type.as_str() == "https://e/1"
        })
        .times(1)
        .returning(|_, _, _, _| Ok(AvailableTimes::default()));
    service(connected_repository(), scheduling)
        .check_availability(
            &user_id(),
            query("2030-01-02T00:00:00Z", "2030-01-09T00:00:00Z", None),
        )
        .await
        .expect("times");
}
