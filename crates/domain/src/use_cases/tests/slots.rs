//! Slots: grouping by local day, several event types, the event types asked for.

use chrono_tz::Tz;

use super::*;

pub(super) const E1: &str = "https://e/1";
pub(super) const E2: &str = "https://e/2";
pub(super) const E3: &str = "https://e/3";

pub(super) fn typed(uri: &str, minutes: Option<u32>, active: bool) -> EventType {
    EventType {
        duration_minutes: minutes,
        active,
        ..event_type(uri)
    }
}

/// Event types E1 (30 min), E2 (15 min), E3 (60 min, inactive); each event type's available
/// times are `times` of it that fall in the piece asked for. The calls are counted.
pub(super) fn scheduling(
    times: &'static [(&'static str, &'static str)],
) -> (MockSchedulingProvider, Arc<Mutex<usize>>) {
    let calls = Arc::new(Mutex::new(0));
    let counted = Arc::clone(&calls);
    let mut scheduling = MockSchedulingProvider::new();
    scheduling.expect_afford().returning(|_, _| Ok(()));
    scheduling.expect_event_types().returning(|_, _| {
        Ok(vec![
            typed(E1, Some(30), true),
            typed(E2, Some(15), true),
            typed(E3, Some(60), false),
        ]
        .into())
    });
    scheduling
        .expect_available_times()
        .returning(move |_, _, event_type, range| {
            *counted.lock().expect("lock") += 1;
            Ok(times
                .iter()
                .filter(|(uri, start)| {
                    *uri == event_type.as_str()
                        && range.start() <= at(start)
                        && at(start) < range.end()
                })
                .map(|(_, start)| available(start, 1))
                .collect())
        });
    (scheduling, calls)
}

pub(super) fn slots_query(
    start: &str,
    end: &str,
    event_types: &[&str],
    timezone: Option<Tz>,
) -> SlotsQuery {
    SlotsQuery {
        start: at(start),
        end: at(end),
        event_types: event_types
            .iter()
            .map(|u| EventTypeUri::parse(*u).expect("uri"))
            .collect(),
        timezone,
    }
}

/// Each day as its date and its slots as `start end event_type`.
pub(super) fn shown(slots: &Slots) -> Vec<(String, Vec<String>)> {
    slots
        .days
        .iter()
        .map(|day| {
            (
                day.date.to_string(),
                day.slots
                    .iter()
                    .map(|s| {
                        format!(
                            "{} {} {}",
                            s.start.to_rfc3339(),
                            s.end.to_rfc3339(),
                            s.event_type
                        )
                    })
                    .collect(),
            )
        })
        .collect()
}

pub(super) async fn slots_of(
    times: &'static [(&'static str, &'static str)],
    query: SlotsQuery,
) -> Result<Slots, GatewayError> {
    service(connected_repository(), scheduling(times).0)
        .slots(&user_id(), query)
        .await
}

#[tokio::test]
async fn coinciding_slots_of_two_event_types_are_both_kept_in_event_type_order_and_inactive_ones_left_out()
 {
    static TIMES: &[(&str, &str)] = &[
        (E2, "2030-01-02T09:00:00Z"),
        (E1, "2030-01-02T09:00:00Z"),
        (E3, "2030-01-02T09:00:00Z"),
    ];
    // None asked: every active event type.
    let slots = slots_of(
        TIMES,
        slots_query(
            "2030-01-02T00:00:00Z",
            "2030-01-03T00:00:00Z",
            &[],
            Some(Tz::UTC),
        ),
    )
    .await
    .expect("slots");
    assert_eq!(slots.timezone, Tz::UTC);
    assert_eq!(
        shown(&slots),
        [(
            "2030-01-02".to_owned(),
            vec![
                format!("2030-01-02T09:00:00+00:00 2030-01-02T09:30:00+00:00 {E1}"),
                format!("2030-01-02T09:00:00+00:00 2030-01-02T09:15:00+00:00 {E2}"),
            ]
        )]
    );
    assert_eq!(slots.days[0].slots[0].seats_left, Some(1));
    assert_eq!(
        slots.days[0].slots[0].booking_url.as_deref(),
        Some(format!("https://book.example/{}", "2030-01-02T09:00:00Z").as_str())
    );

    // No zone asked: the user's on Calendly (its example writes `America/New York`).
    let users = slots_of(
        TIMES,
        slots_query("2030-01-02T00:00:00Z", "2030-01-03T00:00:00Z", &[], None),
    )
    .await
    .expect("slots");
    assert_eq!(users.timezone, chrono_tz::America::New_York);
    assert_eq!(
        users.days[0].slots[0].start.to_rfc3339(),
        "2030-01-02T04:00:00-05:00"
    );
}

#[tokio::test]
async fn a_40_day_range_over_3_event_types_is_6_calls_and_each_asked_type_once() {
    static TIMES: &[(&str, &str)] = &[(E1, "2030-01-20T10:00:00Z"), (E1, "2030-02-05T10:00:00Z")];
    let (provider, calls) = scheduling(TIMES);
    let slots = service(connected_repository(), provider)
        .slots(
            &user_id(),
            slots_query(
                "2030-01-02T00:00:00Z",
                "2030-02-11T00:00:00Z",
                &[E1, E2, E3, E1],
                None,
            ),
        )
        .await
        .expect("slots");
    assert_eq!(*calls.lock().expect("lock"), 6);
    assert_eq!(slots.days.len(), 2);
}

#[tokio::test]
async fn too_many_unknown_or_durationless_event_types_are_refused() {
    let policy = AvailabilityPolicy {
        max_event_types: 2,
        ..AvailabilityPolicy::default()
    };
    let limited =
        |provider| SchedulingService::new(ports(connected_repository(), provider), policy);
    static NONE: &[(&str, &str)] = &[];
    let error = limited(scheduling(NONE).0)
        .slots(
            &user_id(),
            slots_query(
                "2030-01-02T00:00:00Z",
                "2030-01-03T00:00:00Z",
                &[E1, E2, E3],
                None,
            ),
        )
        .await
        .expect_err("three");
    assert!(
        matches!(error, GatewayError::TooManyEventTypes { max: 2 }),
        "{error:?}"
    );
    let error = slots_of(
        NONE,
        slots_query(
            "2030-01-02T00:00:00Z",
            "2030-01-03T00:00:00Z",
            &["https://e/other"],
            None,
        ),
    )
    .await
    .expect_err("not the user's");
    assert!(
        matches!(error, GatewayError::EventTypeNotFound(_)),
        "{error:?}"
    );

    let mut durationless = MockSchedulingProvider::new();
    durationless
        .expect_event_types()
        .returning(|_, _| Ok(vec![typed(E1, None, true)].into()));
    durationless.expect_available_times().never();
    let error = service(connected_repository(), durationless)
        .slots(
            &user_id(),
            slots_query("2030-01-02T00:00:00Z", "2030-01-03T00:00:00Z", &[], None),
        )
        .await
        .expect_err("no duration");
    assert!(
        matches!(
            error,
            GatewayError::Provider(ProviderError::Unavailable { .. })
        ),
        "{error:?}"
    );
}
