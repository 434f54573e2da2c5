use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use mockall::predicate::eq;
use serde_json::json;

use super::*;
use crate::error::RepositoryError;
use crate::model::{CalendlyUser, RawJson};
use crate::ports::{MockAccountCache, MockClock, MockSchedulingProvider, MockTokenRepository};

const NOW: &str = "2030-01-01T00:00:00Z";

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("valid time")
        .to_utc()
}

fn user_id() -> UserId {
    UserId::parse("42").expect("valid user id")
}

fn token() -> CalendlyToken {
    CalendlyToken::parse("calendly-pat").expect("valid token")
}

fn calendly_user() -> CalendlyUser {
    CalendlyUser {
        uri: CalendlyUserUri::parse("https://api.calendly.com/users/AAAA").expect("uri"),
        name: "John Doe".into(),
        email: "user@example.com".into(),
        scheduling_url: "https://calendly.com/acmesales".into(),
        timezone: "America/New York".into(),
    }
}

fn connection() -> CalendlyConnection {
    CalendlyConnection {
        user_id: user_id(),
        token: token(),
        calendly_user: calendly_user(),
        connected_at: at("2029-12-01T00:00:00Z"),
    }
}

fn event_type(uri: &str) -> EventType {
    EventType {
        uri: EventTypeUri::parse(uri).expect("uri"),
        json: RawJson::parse(json!({ "uri": uri, "name": "Meeting" }).to_string()).expect("json"),
    }
}

fn available(start: &str, remaining: u32) -> AvailableTime {
    AvailableTime {
        start_time: at(start),
        json: RawJson::parse(
            json!({ "status": "available", "start_time": start, "invitees_remaining": remaining })
                .to_string(),
        )
        .expect("json"),
    }
}

fn details() -> serde_json::Value {
    json!({ "title": "Unauthenticated", "message": "The access token is invalid" })
}

fn clock() -> MockClock {
    let mut clock = MockClock::new();
    clock.expect_now().returning(|| at(NOW));
    clock
}

fn connected_repository() -> MockTokenRepository {
    let mut tokens = MockTokenRepository::new();
    tokens
        .expect_load()
        .with(eq(user_id()))
        .returning(|_| Ok(Some(connection())));
    tokens
}

/// A cache that may be told anything.
fn any_cache() -> MockAccountCache {
    let mut cache = MockAccountCache::new();
    cache.expect_forget().returning(|_| ());
    cache
}

fn service_with_cache(
    tokens: MockTokenRepository,
    scheduling: MockSchedulingProvider,
    cache: MockAccountCache,
) -> CalendlyService {
    CalendlyService::new(
        Ports {
            tokens: Arc::new(tokens),
            scheduling: Arc::new(scheduling),
            account_cache: Arc::new(cache),
            clock: Arc::new(clock()),
        },
        AvailabilityPolicy::default(),
    )
}

fn service(tokens: MockTokenRepository, scheduling: MockSchedulingProvider) -> CalendlyService {
    service_with_cache(tokens, scheduling, any_cache())
}

fn query(start: &str, end: &str, event_type: Option<&str>) -> AvailabilityQuery {
    AvailabilityQuery {
        start: at(start),
        end: at(end),
        event_type: event_type.map(|uri| EventTypeUri::parse(uri).expect("uri")),
    }
}

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
    tokens
        .expect_save()
        .withf(|c| {
            c.user_id == user_id()
                && c.token.expose() == "calendly-pat"
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
        .withf(|token, event_type, _| {
            token.expose() == "calendly-pat" && event_type.as_str() == "https://e/1"
        })
        .times(1)
        .returning(|_, _, _| Ok(vec![]));
    service(connected_repository(), scheduling)
        .check_availability(
            &user_id(),
            query("2030-01-02T00:00:00Z", "2030-01-09T00:00:00Z", None),
        )
        .await
        .expect("times");
}

// --- check availability --------------------------------------------------------------------

fn scheduling_with_event_types(uris: &'static [&'static str]) -> MockSchedulingProvider {
    let mut scheduling = MockSchedulingProvider::new();
    scheduling
        .expect_event_types()
        .returning(move |_, _| Ok(uris.iter().map(|uri| event_type(uri)).collect()));
    scheduling
}

#[tokio::test]
async fn availability_uses_the_first_event_type_by_default() {
    let mut scheduling = scheduling_with_event_types(&["https://e/1", "https://e/2"]);
    scheduling
        .expect_available_times()
        .withf(|token, event_type, range| {
            token.expose() == "calendly-pat"
                && event_type.as_str() == "https://e/1"
                && range.start() == at("2030-01-02T00:00:00Z")
                && range.end() == at("2030-01-09T00:00:00Z")
        })
        .times(1)
        .returning(|_, _, _| Ok(vec![available("2030-01-02T10:00:00Z", 1)]));

    let times = service(connected_repository(), scheduling)
        .check_availability(
            &user_id(),
            query("2030-01-02T00:00:00Z", "2030-01-09T00:00:00Z", None),
        )
        .await
        .expect("times");

    assert_eq!(times.len(), 1);
    assert_eq!(times[0].start_time, at("2030-01-02T10:00:00Z"));
}

#[tokio::test]
async fn availability_uses_the_event_type_asked_for() {
    let mut scheduling = scheduling_with_event_types(&["https://e/1", "https://e/2"]);
    scheduling
        .expect_available_times()
        .withf(|_, event_type, _| event_type.as_str() == "https://e/2")
        .times(1)
        .returning(|_, _, _| Ok(vec![]));

    let times = service(connected_repository(), scheduling)
        .check_availability(
            &user_id(),
            query(
                "2030-01-02T00:00:00Z",
                "2030-01-03T00:00:00Z",
                Some("https://e/2"),
            ),
        )
        .await
        .expect("times");
    assert!(times.is_empty());
}

#[tokio::test]
async fn availability_for_an_event_type_of_someone_else_is_not_found() {
    let mut scheduling = scheduling_with_event_types(&["https://e/1"]);
    scheduling.expect_available_times().never();
    let error = service(connected_repository(), scheduling)
        .check_availability(
            &user_id(),
            query(
                "2030-01-02T00:00:00Z",
                "2030-01-03T00:00:00Z",
                Some("https://e/9"),
            ),
        )
        .await
        .expect_err("not the user's");
    assert!(matches!(error, GatewayError::EventTypeNotFound(uri) if uri.as_str() == "https://e/9"));
}

#[tokio::test]
async fn availability_without_event_types_is_no_event_types() {
    let mut scheduling = scheduling_with_event_types(&[]);
    scheduling.expect_available_times().never();
    let error = service(connected_repository(), scheduling)
        .check_availability(
            &user_id(),
            query("2030-01-02T00:00:00Z", "2030-01-03T00:00:00Z", None),
        )
        .await
        .expect_err("no event types");
    assert!(matches!(error, GatewayError::NoEventTypes));
}

#[tokio::test]
async fn availability_for_a_user_without_connection_is_not_connected() {
    let mut tokens = MockTokenRepository::new();
    tokens.expect_load().returning(|_| Ok(None));
    let error = service(tokens, MockSchedulingProvider::new())
        .check_availability(
            &user_id(),
            query("2030-01-02T00:00:00Z", "2030-01-03T00:00:00Z", None),
        )
        .await
        .expect_err("not connected");
    assert!(matches!(error, GatewayError::NotConnected));
}

#[tokio::test]
async fn availability_rejects_bad_ranges_before_touching_anything() {
    for (start, end) in [
        ("2030-01-02T00:00:00Z", "2030-01-02T00:00:00Z"),
        ("2030-01-03T00:00:00Z", "2030-01-02T00:00:00Z"),
        ("2030-01-01T00:00:00Z", "2031-01-01T00:00:01Z"),
    ] {
        // Mocks without expectations: any call fails the test.
        let error = service(MockTokenRepository::new(), MockSchedulingProvider::new())
            .check_availability(&user_id(), query(start, end, None))
            .await
            .expect_err("bad range");
        assert!(
            matches!(error, GatewayError::InvalidRange(_)),
            "{start} {end}"
        );
    }
}

#[tokio::test]
async fn availability_accepts_exactly_the_longest_range() {
    let mut scheduling = scheduling_with_event_types(&["https://e/1"]);
    scheduling
        .expect_available_times()
        .times(12)
        .returning(|_, _, _| Ok(vec![]));
    service(connected_repository(), scheduling)
        .check_availability(
            &user_id(),
            query("2030-01-01T00:00:00Z", "2031-01-01T00:00:00Z", None),
        )
        .await
        .expect("365 days is allowed");
}

#[tokio::test]
async fn a_long_range_is_split_and_merged_sorted_without_duplicates() {
    let calls = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&calls);
    let mut scheduling = scheduling_with_event_types(&["https://e/1"]);
    scheduling
        .expect_available_times()
        .times(3)
        .returning(move |_, _, range| {
            seen.lock().expect("lock").push(range);
            // Each piece answers out of order and repeats the time at its start, as a
            // provider that treats both ends as inclusive would.
            Ok(vec![
                available(&(range.start() + TimeDelta::hours(5)).to_rfc3339(), 2),
                available(&range.start().to_rfc3339(), 1),
                available(&range.end().to_rfc3339(), 1),
            ])
        });

    let times = service(connected_repository(), scheduling)
        .check_availability(
            &user_id(),
            query("2030-01-02T00:00:00Z", "2030-03-15T00:00:00Z", None),
        )
        .await
        .expect("times");

    let mut ranges = calls.lock().expect("lock").clone();
    ranges.sort_by_key(|r| r.start());
    assert_eq!(
        ranges.first().map(|r| r.start()),
        Some(at("2030-01-02T00:00:00Z"))
    );
    assert_eq!(
        ranges.last().map(|r| r.end()),
        Some(at("2030-03-15T00:00:00Z"))
    );
    assert!(ranges.windows(2).all(|w| w[0].end() == w[1].start()));
    assert!(ranges.iter().all(|r| r.duration() <= TimeDelta::days(31)));

    let starts: Vec<DateTime<Utc>> = times.iter().map(|t| t.start_time).collect();
    let mut expected: Vec<DateTime<Utc>> = ranges
        .iter()
        .flat_map(|r| [r.start(), r.start() + TimeDelta::hours(5), r.end()])
        .collect();
    expected.sort();
    expected.dedup();
    assert_eq!(starts, expected);
}

#[tokio::test]
async fn a_start_in_the_past_is_moved_ahead_of_now_by_the_lead() {
    let mut scheduling = scheduling_with_event_types(&["https://e/1"]);
    scheduling
        .expect_available_times()
        .withf(|_, _, range| {
            range.start() == at(NOW) + AvailabilityPolicy::default().start_lead
                && range.end() == at("2030-01-05T00:00:00Z")
        })
        .times(1)
        .returning(|_, _, _| Ok(vec![]));
    service(connected_repository(), scheduling)
        .check_availability(
            &user_id(),
            query("2029-12-30T00:00:00Z", "2030-01-05T00:00:00Z", None),
        )
        .await
        .expect("times");
}

#[tokio::test]
async fn a_range_ending_within_the_lead_has_no_available_times_and_costs_no_call() {
    let mut scheduling = scheduling_with_event_types(&["https://e/1"]);
    scheduling.expect_available_times().never();
    let times = service(connected_repository(), scheduling)
        .check_availability(
            &user_id(),
            query("2029-12-31T23:00:00Z", "2030-01-01T00:00:30Z", None),
        )
        .await
        .expect("times");
    assert!(times.is_empty());
}

#[tokio::test]
async fn a_range_wholly_in_the_past_has_no_available_times() {
    let mut scheduling = scheduling_with_event_types(&["https://e/1"]);
    scheduling.expect_available_times().never();
    let times = service(connected_repository(), scheduling)
        .check_availability(
            &user_id(),
            query("2029-12-01T00:00:00Z", "2029-12-05T00:00:00Z", None),
        )
        .await
        .expect("times");
    assert!(times.is_empty());
}

#[tokio::test]
async fn a_failing_piece_fails_the_whole_check() {
    let mut scheduling = scheduling_with_event_types(&["https://e/1"]);
    scheduling
        .expect_available_times()
        .returning(|_, _, range| {
            if range.start() == at("2030-01-02T00:00:00Z") {
                Ok(vec![available("2030-01-02T10:00:00Z", 1)])
            } else {
                Err(ProviderError::RateLimited {
                    retry_after: Some(Duration::from_secs(30)),
                    details: json!({}),
                })
            }
        });
    let error = service(connected_repository(), scheduling)
        .check_availability(
            &user_id(),
            query("2030-01-02T00:00:00Z", "2030-03-01T00:00:00Z", None),
        )
        .await
        .expect_err("rate limited");
    assert!(matches!(
        error,
        GatewayError::Provider(ProviderError::RateLimited { retry_after: Some(d), .. }) if d.as_secs() == 30
    ));
}
