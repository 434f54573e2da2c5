//! Available and busy times, remembered by account, event type and window.

use super::*;

pub(super) fn event_type() -> EventTypeUri {
    EventTypeUri::parse("https://api.calendly.com/event_types/A-1").expect("uri")
}

pub(super) async fn available(
    scheduling: &CachedScheduling<Counting>,
    asked: TimeRange,
) -> Vec<String> {
    scheduling
        .available_times(&token(), &account("A"), &event_type(), asked)
        .await
        .expect("available times")
        .iter()
        .map(|time| time.json.text().into_owned())
        .collect()
}

pub(super) fn available_calls(scheduling: &CachedScheduling<Counting>) -> usize {
    scheduling.inner.available_calls.load(Ordering::SeqCst)
}

fn slot(time: &str) -> String {
    format!(r#"{{"status":"available","start_time":"{time}"}}"#)
}

#[tokio::test]
async fn a_week_then_each_of_its_days_costs_the_weeks_call_only() {
    let (_, scheduling) = cached(Duration::from_secs(60), Counting::default());
    // Monday 2030-01-07 to Monday 2030-01-14: one UTC week.
    let week = available(
        &scheduling,
        range("2030-01-07T00:00:00Z", "2030-01-14T00:00:00Z"),
    )
    .await;
    assert_eq!(week.len(), 7 * 8);
    for day in 7..14 {
        let start = format!("2030-01-{day:02}T00:00:00Z");
        let end = format!("2030-01-{:02}T00:00:00Z", day + 1);
        let times = available(&scheduling, range(&start, &end)).await;
        assert_eq!(times.len(), 8, "day {day}");
        assert_eq!(
            times[0],
            slot(&format!("2030-01-{day:02}T09:00:00.000000Z"))
        );
    }
    let afternoon = available(
        &scheduling,
        range("2030-01-09T15:30:00Z", "2030-01-09T16:00:01Z"),
    )
    .await;
    assert_eq!(afternoon, vec![slot("2030-01-09T16:00:00.000000Z")]);
    assert_eq!(available_calls(&scheduling), 1);
    assert_eq!(
        *scheduling.inner.asked.lock().expect("asked"),
        vec![range("2030-01-07T00:00:00Z", "2030-01-14T00:00:00Z")],
        "the whole week was asked"
    );
}

#[tokio::test]
async fn the_current_week_is_asked_from_now_and_never_answers_a_past_time() {
    let (_, scheduling, clock) =
        cached_with(settings(Duration::from_secs(600)), Counting::default());
    // Wednesday 2030-01-02, 10:00: the week began on Monday 2029-12-31.
    clock.set("2030-01-02T10:00:00Z");
    let first = available(
        &scheduling,
        range("2030-01-02T10:01:00Z", "2030-01-03T00:00:00Z"),
    )
    .await;
    assert_eq!(first.first(), Some(&slot("2030-01-02T11:00:00.000000Z")));
    assert_eq!(
        *scheduling.inner.asked.lock().expect("asked"),
        vec![range("2030-01-02T10:01:00Z", "2030-01-07T00:00:00Z")]
    );
    // Hours later, the same window: the times now past are not in the answer.
    clock.set("2030-01-02T14:30:00Z");
    let later = available(
        &scheduling,
        range("2030-01-02T14:31:00Z", "2030-01-03T00:00:00Z"),
    )
    .await;
    assert_eq!(
        later,
        vec![
            slot("2030-01-02T15:00:00.000000Z"),
            slot("2030-01-02T16:00:00.000000Z")
        ]
    );
    // A later day of the week comes from the same window.
    let friday = available(
        &scheduling,
        range("2030-01-04T00:00:00Z", "2030-01-05T00:00:00Z"),
    )
    .await;
    assert_eq!(friday.len(), 8);
    assert_eq!(available_calls(&scheduling), 1);
}

#[tokio::test(start_paused = true)]
async fn concurrent_identical_questions_share_one_call() {
    let provider = Counting {
        delay: Duration::from_millis(100),
        ..Counting::default()
    };
    let (cache, scheduling) = cached(Duration::from_secs(60), provider);
    let scheduling = Arc::new(scheduling);
    let questions = (0..32).map(|_| {
        let scheduling = Arc::clone(&scheduling);
        tokio::spawn(async move {
            available(
                &scheduling,
                range("2030-01-08T00:00:00Z", "2030-01-09T00:00:00Z"),
            )
            .await
        })
    });
    for answer in futures::future::join_all(questions).await {
        assert_eq!(answer.expect("task").len(), 8);
    }
    assert_eq!(available_calls(&scheduling), 1);
    let store = cache.stores.available.as_ref().expect("kept");
    assert_eq!(
        store.loads_in_flight(),
        0,
        "nothing held once the load is over"
    );
    // Two weeks at once, loaded in one call: neither is held after.
    available(
        &scheduling,
        range("2030-01-26T00:00:00Z", "2030-01-30T00:00:00Z"),
    )
    .await;
    assert_eq!(available_calls(&scheduling), 2);
    assert_eq!(store.loads_in_flight(), 0);
}

#[tokio::test]
async fn forgetting_times_asks_again_for_times_but_not_event_types() {
    let (cache, scheduling) = cached(Duration::from_secs(60), Counting::default());
    let day = range("2030-01-08T00:00:00Z", "2030-01-09T00:00:00Z");
    first_uri(&scheduling, "A").await;
    available(&scheduling, day).await;
    cache.forget_times(&account("A")).await;
    first_uri(&scheduling, "A").await;
    available(&scheduling, day).await;
    assert_eq!((calls(&scheduling), available_calls(&scheduling)), (1, 2));
    cache.forget(&account("A")).await;
    first_uri(&scheduling, "A").await;
    available(&scheduling, day).await;
    assert_eq!((calls(&scheduling), available_calls(&scheduling)), (2, 3));
    // Another account's are kept.
    cache.forget(&account("B")).await;
    available(&scheduling, day).await;
    assert_eq!(available_calls(&scheduling), 3);
}

#[tokio::test(start_paused = true)]
async fn a_load_in_flight_when_the_account_is_forgotten_is_not_served_after() {
    let provider = Counting {
        delay: Duration::from_millis(100),
        ..Counting::default()
    };
    let (cache, scheduling) = cached(Duration::from_secs(60), provider);
    let day = range("2030-01-08T00:00:00Z", "2030-01-09T00:00:00Z");
    let (_, ()) = tokio::join!(available(&scheduling, day), async {
        tokio::time::sleep(Duration::from_millis(50)).await;
        cache.forget_times(&account("A")).await;
    });
    available(&scheduling, day).await;
    assert_eq!(available_calls(&scheduling), 2);
}

#[tokio::test]
async fn busy_times_are_cut_to_the_range_by_overlap() {
    let (_, scheduling) = cached(Duration::from_secs(60), Counting::default());
    let busy = |asked| {
        let scheduling = &scheduling;
        async move {
            scheduling
                .busy_times(&token(), &account("A"), asked)
                .await
                .expect("busy")
                .iter()
                .map(|time| time.start_time)
                .collect::<Vec<_>>()
        }
    };
    // Wednesday to the next Wednesday: two windows.
    let week = busy(range("2030-01-09T00:00:00Z", "2030-01-16T00:00:00Z")).await;
    assert_eq!(week.len(), 7);
    // A question ending inside a busy half hour, and one starting inside it, both see it.
    let ending = busy(range("2030-01-10T11:00:00Z", "2030-01-10T12:10:00Z")).await;
    let starting = busy(range("2030-01-10T12:10:00Z", "2030-01-10T14:00:00Z")).await;
    assert_eq!(ending, vec![at("2030-01-10T12:00:00Z")]);
    assert_eq!(starting, ending);
    assert!(
        busy(range("2030-01-10T12:30:00Z", "2030-01-10T14:00:00Z"))
            .await
            .is_empty()
    );
    assert_eq!(
        scheduling.inner.busy_calls.load(Ordering::SeqCst),
        1,
        "the two windows in one call"
    );
}

#[tokio::test]
async fn failures_are_not_remembered_and_a_zero_ttl_passes_every_question_on() {
    let failing = Counting {
        fail: true,
        ..Counting::default()
    };
    let (_, scheduling) = cached(Duration::from_secs(60), failing);
    let day = range("2030-01-08T00:00:00Z", "2030-01-09T00:00:00Z");
    for _ in 0..2 {
        let error = scheduling
            .available_times(&token(), &account("A"), &event_type(), day)
            .await
            .expect_err("failed");
        assert!(matches!(error, ProviderError::Timeout));
    }
    assert_eq!(available_calls(&scheduling), 2);

    let (_, scheduling) = cached(Duration::ZERO, Counting::default());
    available(&scheduling, day).await;
    available(&scheduling, day).await;
    assert_eq!(available_calls(&scheduling), 2);
    assert_eq!(
        *scheduling.inner.asked.lock().expect("asked"),
        vec![day, day],
        "asked as it came, no window"
    );
}

#[tokio::test]
async fn the_store_keeps_within_its_bytes_and_windows() {
    let mut bounded = settings(Duration::from_secs(600));
    bounded.availability_max_bytes = 64 * 1024;
    bounded.availability_max_windows = 20;
    let (cache, scheduling, _) = cached_with(bounded, Counting::default());
    let week = range("2030-01-07T00:00:00Z", "2030-01-14T00:00:00Z");
    for id in 0..60 {
        scheduling
            .available_times(&token(), &account(&format!("A{id}")), &event_type(), week)
            .await
            .expect("available times");
    }
    let store = cache.stores.available.as_ref().expect("store");
    let (windows, weight) = store.window_count();
    assert!((1..=20).contains(&windows), "{windows} windows");
    assert!(weight <= 64 * 1024, "{weight} bytes");
}

#[tokio::test]
async fn the_weeks_of_one_event_type_are_kept_together() {
    let (cache, scheduling) = cached(Duration::from_secs(60), Counting::default());
    available(
        &scheduling,
        range("2030-01-07T00:00:00Z", "2030-01-28T00:00:00Z"),
    )
    .await;
    let store = cache.stores.available.as_ref().expect("store");
    let (windows, _) = store.window_count();
    assert_eq!((windows, store.subject_count()), (3, 1));
    available(
        &scheduling,
        range("2030-01-14T00:00:00Z", "2030-01-15T00:00:00Z"),
    )
    .await;
    assert_eq!(
        available_calls(&scheduling),
        1,
        "three weeks in one call, then kept"
    );
}

#[tokio::test(start_paused = true)]
async fn windows_live_for_the_ttl_and_those_past_it_are_dropped() {
    let (cache, scheduling) = cached(Duration::from_secs(60), Counting::default());
    let week = range("2030-01-07T00:00:00Z", "2030-01-14T00:00:00Z");
    let ask = |id: usize| {
        let scheduling = &scheduling;
        async move {
            scheduling
                .available_times(&token(), &account(&format!("A{id}")), &event_type(), week)
                .await
                .expect("available times")
        }
    };
    for id in 0..10 {
        ask(id).await;
    }
    let store = cache.stores.available.as_ref().expect("store");
    assert_eq!(store.window_count().0, 10);
    tokio::time::advance(Duration::from_secs(59)).await;
    ask(0).await;
    assert_eq!(available_calls(&scheduling), 10, "still fresh");

    tokio::time::advance(Duration::from_secs(2)).await;
    ask(0).await;
    assert_eq!(available_calls(&scheduling), 11, "asked again past the TTL");
    // Storing it again dropped every window past the TTL, and what they weighed.
    let (windows, weight) = store.window_count();
    assert_eq!((windows, store.subject_count()), (1, 1));
    ask(1).await;
    let (_, two) = store.window_count();
    assert!(weight > 0 && two == 2 * weight, "{weight} then {two}");
}
