//! Whole answers kept: given without a call, and handed over when made.

use super::*;

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
    let mut scheduling = availability::scheduling_with_event_types(&["https://e/1", "https://e/2"]);
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
