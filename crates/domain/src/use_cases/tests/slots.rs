//! Slots: time zones (daylight saving included), grouping by local day, several event types.

use chrono_tz::Tz;

use super::*;

const E1: &str = "https://e/1";
const E2: &str = "https://e/2";
const E3: &str = "https://e/3";

fn typed(uri: &str, minutes: Option<u32>, active: bool) -> EventType {
    EventType {
        duration_minutes: minutes,
        active,
        ..event_type(uri)
    }
}

/// Event types E1 (30 min), E2 (15 min), E3 (60 min, inactive); each event type's available
/// times are `times` of it that fall in the piece asked for. The calls are counted.
fn scheduling(
    times: &'static [(&'static str, &'static str)],
) -> (MockSchedulingProvider, Arc<Mutex<usize>>) {
    let calls = Arc::new(Mutex::new(0));
    let counted = Arc::clone(&calls);
    let mut scheduling = MockSchedulingProvider::new();
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
        .returning(move |_, event_type, range| {
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

fn slots_query(start: &str, end: &str, event_types: &[&str], timezone: Option<Tz>) -> SlotsQuery {
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
fn shown(slots: &Slots) -> Vec<(String, Vec<String>)> {
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

async fn slots_of(
    times: &'static [(&'static str, &'static str)],
    query: SlotsQuery,
) -> Result<Slots, GatewayError> {
    service(connected_repository(), scheduling(times).0)
        .slots(&user_id(), query)
        .await
}

#[tokio::test]
async fn berlin_spring_forward_a_23_hour_day_with_offsets_right_on_both_sides() {
    static TIMES: &[(&str, &str)] = &[
        (E1, "2030-03-30T23:00:00Z"), // 00:00 local, 31 March: a slot at local midnight
        (E1, "2030-03-31T00:30:00Z"), // 01:30+01:00, ends 03:00+02:00 across the jump
        (E1, "2030-03-31T01:00:00Z"), // 03:00+02:00
        (E1, "2030-03-31T22:00:00Z"), // 00:00+02:00, 1 April
    ];
    let slots = slots_of(
        TIMES,
        slots_query(
            "2030-03-30T00:00:00Z",
            "2030-04-02T00:00:00Z",
            &[E1],
            Some(chrono_tz::Europe::Berlin),
        ),
    )
    .await
    .expect("slots");
    assert_eq!(
        shown(&slots),
        [
            (
                "2030-03-31".to_owned(),
                vec![
                    format!("2030-03-31T00:00:00+01:00 2030-03-31T00:30:00+01:00 {E1}"),
                    format!("2030-03-31T01:30:00+01:00 2030-03-31T03:00:00+02:00 {E1}"),
                    format!("2030-03-31T03:00:00+02:00 2030-03-31T03:30:00+02:00 {E1}"),
                ]
            ),
            (
                "2030-04-01".to_owned(),
                vec![format!(
                    "2030-04-01T00:00:00+02:00 2030-04-01T00:30:00+02:00 {E1}"
                )]
            ),
        ]
    );
}

#[tokio::test]
async fn new_york_fall_back_a_25_hour_day_with_the_hour_twice() {
    static TIMES: &[(&str, &str)] = &[
        (E2, "2030-11-03T05:30:00Z"), // 01:30-04:00 (EDT)
        (E2, "2030-11-03T06:30:00Z"), // 01:30-05:00 (EST), the same local time again
        (E2, "2030-11-04T04:59:00Z"), // 23:59-05:00, still 3 November
    ];
    let slots = slots_of(
        TIMES,
        slots_query(
            "2030-11-02T00:00:00Z",
            "2030-11-05T00:00:00Z",
            &[E2],
            Some(chrono_tz::America::New_York),
        ),
    )
    .await
    .expect("slots");
    assert_eq!(
        shown(&slots),
        [(
            "2030-11-03".to_owned(),
            vec![
                format!("2030-11-03T01:30:00-04:00 2030-11-03T01:45:00-04:00 {E2}"),
                format!("2030-11-03T01:30:00-05:00 2030-11-03T01:45:00-05:00 {E2}"),
                format!("2030-11-03T23:59:00-05:00 2030-11-04T00:14:00-05:00 {E2}"),
            ]
        )]
    );
}

#[tokio::test]
async fn half_hour_zones_and_a_half_hour_daylight_shift() {
    static TIMES: &[(&str, &str)] = &[(E1, "2030-04-06T14:00:00Z"), (E1, "2030-04-06T16:00:00Z")];
    // Kolkata, +05:30: 18:30 UTC is local midnight of the next day.
    static KOLKATA: &[(&str, &str)] = &[(E1, "2030-01-05T18:30:00Z")];
    let slots = slots_of(
        KOLKATA,
        slots_query(
            "2030-01-05T00:00:00Z",
            "2030-01-07T00:00:00Z",
            &[E1],
            Some(chrono_tz::Asia::Kolkata),
        ),
    )
    .await
    .expect("slots");
    assert_eq!(
        shown(&slots),
        [(
            "2030-01-06".to_owned(),
            vec![format!(
                "2030-01-06T00:00:00+05:30 2030-01-06T00:30:00+05:30 {E1}"
            )]
        )]
    );
    // Lord Howe leaves daylight saving at 02:00 local on 7 April 2030: +11:00, then +10:30.
    let slots = slots_of(
        TIMES,
        slots_query(
            "2030-04-06T00:00:00Z",
            "2030-04-07T00:00:00Z",
            &[E1],
            Some(chrono_tz::Australia::Lord_Howe),
        ),
    )
    .await
    .expect("slots");
    assert_eq!(
        shown(&slots),
        [(
            "2030-04-07".to_owned(),
            vec![
                format!("2030-04-07T01:00:00+11:00 2030-04-07T01:30:00+11:00 {E1}"),
                format!("2030-04-07T02:30:00+10:30 2030-04-07T03:00:00+10:30 {E1}"),
            ]
        )]
    );
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
    assert_eq!(slots.days[0].slots[0].invitees_remaining, Some(1));

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
    let limited = |provider| {
        CalendlyService::new(
            Ports {
                tokens: Arc::new(connected_repository()),
                scheduling: Arc::new(provider),
                account_cache: Arc::new(any_cache()),
                oauth: None,
                oauth_starts: Arc::new(MockOAuthStarts::new()),
                tasks: Arc::new(Spawned),
                clock: Arc::new(clock()),
            },
            policy,
        )
    };
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
