//! Checking availability.

use super::*;

// --- check availability --------------------------------------------------------------------

fn scheduling_with_event_types(uris: &'static [&'static str]) -> MockSchedulingProvider {
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

// --- whole answers kept ----------------------------------------------------------------------

/// Answers kept by a test: `kept` given back for every question; without it, each answer made
/// is handed over and recorded (its event type, the range asked of the provider, its times).
#[derive(Default)]
struct TestAnswers {
    kept: Option<AvailableTimes>,
    asked: Mutex<Vec<(String, Option<String>, TimeRange)>>,
    handed: Arc<Mutex<Vec<(String, TimeRange, usize)>>>,
}

impl crate::ports::KeptAnswers for TestAnswers {
    fn recall(&self, asked: &crate::ports::AskedTimes<'_>) -> crate::ports::Recall {
        self.asked.lock().expect("asked").push((
            asked.account.to_string(),
            asked.event_type.map(ToString::to_string),
            asked.range,
        ));
        if let Some(kept) = &self.kept {
            return crate::ports::Recall::Kept(kept.clone());
        }
        let handed = Arc::clone(&self.handed);
        crate::ports::Recall::Keep(crate::ports::KeepAnswer::new(
            move |event_type, range, answer| {
                handed
                    .lock()
                    .expect("handed")
                    .push((event_type.to_string(), range, answer.len()));
                Box::pin(async {})
            },
        ))
    }
}

fn service_with_answers(
    scheduling: MockSchedulingProvider,
    answers: Arc<TestAnswers>,
) -> SchedulingService {
    SchedulingService::new(
        Ports {
            answers,
            ..ports(connected_repository(), scheduling)
        },
        AvailabilityPolicy::default(),
    )
}

#[tokio::test]
async fn a_kept_answer_is_given_without_a_call_cut_to_what_is_still_ahead() {
    // Now is 2030-01-01T00:00:00Z and the lead a minute: the first time can no longer be booked.
    let kept: AvailableTimes = vec![
        available("2030-01-01T00:00:30Z", 1),
        available("2030-01-01T00:01:00Z", 1),
        available("2030-01-01T09:00:00Z", 2),
    ]
    .into();
    let answers = Arc::new(TestAnswers {
        kept: Some(kept),
        ..TestAnswers::default()
    });
    // No call of any kind is expected of the provider.
    let service = service_with_answers(MockSchedulingProvider::new(), Arc::clone(&answers));

    let times = service
        .check_availability(
            &user_id(),
            query(
                "2029-12-31T00:00:00Z",
                "2030-01-02T00:00:00Z",
                Some("https://e/2"),
            ),
        )
        .await
        .expect("times");

    let starts: Vec<_> = times.iter().map(|time| time.start_time).collect();
    assert_eq!(
        starts,
        vec![at("2030-01-01T00:01:00Z"), at("2030-01-01T09:00:00Z")]
    );
    assert_eq!(
        *answers.asked.lock().expect("asked"),
        vec![(
            calendly_user().uri.to_string(),
            Some("https://e/2".to_owned()),
            TimeRange::new(at("2029-12-31T00:00:00Z"), at("2030-01-02T00:00:00Z")).expect("range"),
        )],
        "asked as the client asked, before any of it was cut"
    );
}

#[tokio::test]
async fn an_answer_made_is_handed_over_with_its_event_type_and_the_range_asked() {
    let mut scheduling = scheduling_with_event_types(&["https://e/1", "https://e/2"]);
    scheduling
        .expect_available_times()
        .times(1)
        .returning(|_, _, _, _| Ok(vec![available("2030-01-02T10:00:00Z", 1)].into()));
    let answers = Arc::new(TestAnswers::default());
    let service = service_with_answers(scheduling, Arc::clone(&answers));

    service
        .check_availability(
            &user_id(),
            query("2029-12-31T00:00:00Z", "2030-01-09T00:00:00Z", None),
        )
        .await
        .expect("times");

    assert_eq!(
        *answers.handed.lock().expect("handed"),
        vec![(
            "https://e/1".to_owned(),
            TimeRange::new(at("2030-01-01T00:01:00Z"), at("2030-01-09T00:00:00Z")).expect("range"),
            1
        )],
        "the first event type, asked from now plus the lead"
    );
}
