//! Slots in time zones: daylight saving in Berlin and New York, half-hour zones and shifts.

use super::slots::{E1, E2, shown, slots_of, slots_query};

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
async fn berlin_fall_back_and_new_york_spring_forward_each_over_a_week() {
    // Berlin leaves summer time at 03:00 CEST on 27 October 2030 (a 25-hour day).
    static BERLIN: &[(&str, &str)] = &[
        (E1, "2030-10-26T22:00:00Z"), // 00:00+02:00, 27 October
        (E1, "2030-10-27T00:30:00Z"), // 02:30+02:00
        (E1, "2030-10-27T01:30:00Z"), // 02:30+01:00, the same local time again
        (E1, "2030-10-27T22:59:00Z"), // 23:59+01:00, still 27 October
        (E1, "2030-11-01T23:00:00Z"), // 00:00+01:00, 2 November
    ];
    let slots = slots_of(
        BERLIN,
        slots_query(
            "2030-10-26T00:00:00Z",
            "2030-11-02T12:00:00Z",
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
                "2030-10-27".to_owned(),
                vec![
                    format!("2030-10-27T00:00:00+02:00 2030-10-27T00:30:00+02:00 {E1}"),
                    format!("2030-10-27T02:30:00+02:00 2030-10-27T02:00:00+01:00 {E1}"),
                    format!("2030-10-27T02:30:00+01:00 2030-10-27T03:00:00+01:00 {E1}"),
                    format!("2030-10-27T23:59:00+01:00 2030-10-28T00:29:00+01:00 {E1}"),
                ]
            ),
            (
                "2030-11-02".to_owned(),
                vec![format!(
                    "2030-11-02T00:00:00+01:00 2030-11-02T00:30:00+01:00 {E1}"
                )]
            ),
        ]
    );

    // New York starts daylight saving at 02:00 EST on 10 March 2030 (a 23-hour day).
    static NEW_YORK: &[(&str, &str)] = &[
        (E2, "2030-03-10T05:00:00Z"), // 00:00-05:00
        (E2, "2030-03-10T06:50:00Z"), // 01:50-05:00, ends 03:05-04:00
        (E2, "2030-03-10T07:00:00Z"), // 03:00-04:00
        (E2, "2030-03-11T03:59:00Z"), // 23:59-04:00, still 10 March
    ];
    let slots = slots_of(
        NEW_YORK,
        slots_query(
            "2030-03-08T00:00:00Z",
            "2030-03-15T00:00:00Z",
            &[E2],
            Some(chrono_tz::America::New_York),
        ),
    )
    .await
    .expect("slots");
    assert_eq!(
        shown(&slots),
        [(
            "2030-03-10".to_owned(),
            vec![
                format!("2030-03-10T00:00:00-05:00 2030-03-10T00:15:00-05:00 {E2}"),
                format!("2030-03-10T01:50:00-05:00 2030-03-10T03:05:00-04:00 {E2}"),
                format!("2030-03-10T03:00:00-04:00 2030-03-10T03:15:00-04:00 {E2}"),
                format!("2030-03-10T23:59:00-04:00 2030-03-11T00:14:00-04:00 {E2}"),
            ]
        )]
    );
}
