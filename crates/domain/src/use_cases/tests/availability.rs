//! Checking availability.

use super::*;

// --- check availability --------------------------------------------------------------------

pub(super) fn scheduling_with_event_types(uris: &'static [&'static str]) -> MockSchedulingProvider {
    let mut scheduling = MockSchedulingProvider::new();
    scheduling
        .expect_event_types()
        .returning(move |_, _| Ok(uris.iter().map(|uri| event_type(uri)).collect()));
    scheduling.expect_afford().returning(|_, _| Ok(()));
    scheduling
}

#[tokio::test]
async fn a_check_the_budget_cannot_hold_is_refused_before_its_first_call() {
    let mut scheduling = MockSchedulingProvider::new();
    scheduling
        .expect_event_types()
        .returning(|_, _| Ok(vec![event_type("https://e/1")].into()));
    scheduling
        .expect_afford()
        .withf(|_, asked| asked.len() == 2 && asked.iter().all(|a| a.event_type.is_some()))
        .times(1)
        .returning(|_, _| {
            Err(ProviderError::RateLimited {
                retry_after: Some(std::time::Duration::from_secs(40)),
                details: serde_json::Value::Null,
            })
        });
    scheduling.expect_available_times().never();
    let error = service(connected_repository(), scheduling)
        .check_availability(
            &user_id(),
            AvailabilityQuery {
                start: at("2030-01-02T00:00:00Z"),
                end: at("2030-03-02T00:00:00Z"),
                event_type: None,
            },
        )
        .await
        .expect_err("refused");
    assert!(
        matches!(
            error,
            GatewayError::Provider(ProviderError::RateLimited { retry_after: Some(wait), .. })
                if wait.as_secs() == 40
        ),
        "{error:?}"
    );
}

#[tokio::test]
async fn availability_uses_the_first_event_type_by_default() {
    let mut scheduling = scheduling_with_event_types(&["https://e/1", "https://e/2"]);
    scheduling
        .expect_available_times()
        .withf(|token, _, event_type, range| {
            token.expose() == "calendly-pat"
                && event_type.as_str() == "https://e/1"
                && range.start() == at("2030-01-02T00:00:00Z")
                && range.end() == at("2030-01-09T00:00:00Z")
        })
        .times(1)
        .returning(|_, _, _, _| Ok(vec![available("2030-01-02T10:00:00Z", 1)].into()));

    let times = service(connected_repository(), scheduling)
        .check_availability(
            &user_id(),
            query("2030-01-02T00:00:00Z", "2030-01-09T00:00:00Z", None),
        )
        .await
        .expect("times");

    assert_eq!(times.len(), 1);
    assert_eq!(
        times.iter().next().expect("a time").start_time,
        at("2030-01-02T10:00:00Z")
    );
}

#[tokio::test]
async fn availability_uses_the_event_type_asked_for() {
    let mut scheduling = scheduling_with_event_types(&["https://e/1", "https://e/2"]);
    scheduling
        .expect_available_times()
        .withf(|_, _, event_type, _| event_type.as_str() == "https://e/2")
        .times(1)
        .returning(|_, _, _, _| Ok(AvailableTimes::default()));

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
        .returning(|_, _, _, _| Ok(AvailableTimes::default()));
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
        .returning(move |_, _, _, range| {
            seen.lock().expect("lock").push(range);
            // Each piece answers out of order and repeats the time at its start, as a
            // provider that treats both ends as inclusive would.
            Ok(vec![
                available(&(range.start() + TimeDelta::hours(5)).to_rfc3339(), 2),
                available(&range.start().to_rfc3339(), 1),
                available(&range.end().to_rfc3339(), 1),
            ]
            .into())
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
        .withf(|_, _, _, range| {
            range.start() == at(NOW) + AvailabilityPolicy::default().start_lead
                && range.end() == at("2030-01-05T00:00:00Z")
        })
        .times(1)
        .returning(|_, _, _, _| Ok(AvailableTimes::default()));
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
        .returning(|_, _, _, range| {
            if range.start() == at("2030-01-02T00:00:00Z") {
                Ok(vec![available("2030-01-02T10:00:00Z", 1)].into())
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
