//! Reading Calendly's answers: the fast paths agree with serde, and times are read exactly.

use super::*;
use crate::test_described::described;

#[test]
fn a_start_time_is_found_as_calendly_writes_it_and_parsed_otherwise() {
    let found = |object| match flat::fields(object, flat::AVAILABLE_TIME_KEYS) {
        Some([Written::Text(text), _, _]) => Some(text),
        _ => None,
    };
    assert_eq!(
        found(r#"{"status":"available","start_time":"2030-01-07T09:00:00Z","x":1}"#),
        Some("2030-01-07T09:00:00Z")
    );
    assert_eq!(
        found(r#"{ "start_time" : "2030-01-07T09:00:00.000000Z" }"#),
        Some("2030-01-07T09:00:00.000000Z")
    );
    // Written otherwise: left to the parser.
    assert_eq!(found(r#"{"start_time":"2030\u002d01"}"#), None);
    assert_eq!(found(r#"{"a":{"start_time":"x"},"start_time":"y"}"#), None);
    assert_eq!(found(r#"{"start_time":"x","start_time":"y"}"#), None);
    assert_eq!(
        found(r#"{"note":"\"start_time\": no","start_time":"y"}"#),
        Some("y")
    );
    assert_eq!(found(r#"{"status":"available"}"#), None);
    let body = Bytes::from_static(
        br#"{"collection":[{"start_time":"2030\u002d01\u002d07T09:00:00Z"},{"start_time":"2030-01-07T10:00:00Z"}]}"#,
    );
    let times = available_times(&body).expect("read");
    assert_eq!(
        times
            .iter()
            .map(|t| t.start_time.to_rfc3339())
            .collect::<Vec<_>>(),
        ["2030-01-07T09:00:00+00:00", "2030-01-07T10:00:00+00:00"]
    );
}

#[test]
fn a_plain_answer_read_in_one_pass_is_what_serde_reads() {
    let body = Bytes::from_static(
        br#"{"collection":[{"status":"available","invitees_remaining":2,"start_time":"2030-01-07T09:00:00.000000Z","scheduling_url":"https://calendly.com/a/b/2030-01-07T09:00:00Z?month=2030-01"},{"status":"available","invitees_remaining":1.5,"start_time":"2030-01-07T10:00:00Z","scheduling_url":null},{"start_time":"2030-01-07T11:00:00+01:00"}]}"#,
    );
    let fast = plain_available_times(&body).expect("plain");
    let by_serde = parsed_available_times(&body).expect("read");
    assert_eq!(described(&fast), described(&by_serde));
    // A time that is not a string, or not a time: serde's error, not a guess.
    for body in [
        br#"{"collection":[{"start_time":1}]}"#.as_slice(),
        br#"{"collection":[{"start_time":"soon"}]}"#.as_slice(),
    ] {
        assert!(plain_available_times(&Bytes::copy_from_slice(body)).is_none());
        assert!(available_times(&Bytes::copy_from_slice(body)).is_err());
    }
}

#[test]
fn calendly_s_own_writing_of_a_time_is_read_as_chrono_reads_it() {
    for text in [
        "2030-01-02T09:00:00Z",
        "2030-01-02T09:00:00.000000Z",
        "2030-12-31T23:59:59.999999999Z",
        "2030-01-02T09:00:00.5Z",
        "2028-02-29T00:00:00.123Z",
    ] {
        assert_eq!(
            calendly_time(text, &mut LastDay::default()),
            Some(DateTime::parse_from_rfc3339(text).expect("time").to_utc()),
            "{text}"
        );
    }
    // Any other writing is chrono's to read (or refuse).
    for text in [
        "2030-01-02T09:00:00+01:00",
        "2030-01-02t09:00:00z",
        "2030-01-02T09:00:60Z",
        "2030-02-30T09:00:00Z",
        "2030-01-02T09:00:00.Z",
        "2030-01-02T09:00:00.1234567890Z",
        "2030-01-02T09:00:0xZ",
        "2030-01-02T09:00:Z",
        "2030-01-02 09:00:00Z",
        "",
    ] {
        assert_eq!(calendly_time(text, &mut LastDay::default()), None, "{text}");
    }
    assert_eq!(
        time("2030-01-02T10:00:00+01:00", "t", &mut LastDay::default()).expect("read by chrono"),
        calendly_time("2030-01-02T09:00:00Z", &mut LastDay::default()).expect("read")
    );
}

#[test]
fn times_read_one_after_another_take_the_last_date_only_when_it_is_theirs() {
    let mut day = LastDay::default();
    for text in [
        "2030-01-02T09:00:00.000000Z",
        "2030-01-02T10:30:00.000000Z",
        "2030-01-03T09:00:00.000000Z",
        "2030-01-02T23:59:59Z",
        "2031-01-02T09:00:00Z",
        "2030-02-30T09:00:00Z",
        "2031-01-02T08:00:00Z",
    ] {
        assert_eq!(
            calendly_time(text, &mut day),
            DateTime::parse_from_rfc3339(text)
                .ok()
                .map(|time| time.to_utc()),
            "{text}"
        );
    }
}

#[test]
fn times_are_written_as_calendly_writes_them() {
    let time = DateTime::parse_from_rfc3339("2030-01-02T20:00:00+02:00")
        .expect("time")
        .to_utc();
    assert_eq!(format_time(time), "2030-01-02T18:00:00.000000Z");
}

#[test]
fn unknown_fields_are_kept_verbatim() {
    let body = Bytes::from_static(br#"{"collection":[{"start_time":"2030-01-02T20:00:00.000000Z","new_field":{"a":[1,2]},"status":"available"}]}"#);
    let times = available_times(&body).expect("parsed");
    assert_eq!(
        times[0].json.text(),
        r#"{"start_time":"2030-01-02T20:00:00.000000Z","new_field":{"a":[1,2]},"status":"available"}"#
    );
}

#[test]
fn busy_times_and_schedules_are_kept_whole() {
    let body = Bytes::from_static(br#"{"collection":[{"type":"external","start_time":"2030-01-02T20:00:00.000000Z","end_time":"2030-01-02T21:00:00.000000Z"}]}"#);
    let busy = busy_times(&body).expect("parsed");
    assert_eq!(busy[0].start_time.to_rfc3339(), "2030-01-02T20:00:00+00:00");
    assert_eq!(busy[0].end_time.to_rfc3339(), "2030-01-02T21:00:00+00:00");
    assert!(busy[0].json.text().contains(r#""type":"external""#));
    let body = Bytes::from_static(br#"{"collection":[{"uri":"u","rules":[]}]}"#);
    assert_eq!(
        objects(&body, "schedule").expect("parsed")[0].text(),
        r#"{"uri":"u","rules":[]}"#
    );
    for body in [
        &br#"{"collection":[1]}"#[..],
        br#"{"collection":{}}"#,
        b"[]",
    ] {
        assert!(matches!(
            objects(&Bytes::from_static(body), "schedule"),
            Err(ProviderError::Unavailable { .. })
        ));
    }
}

#[test]
fn a_missing_or_malformed_needed_field_is_unavailable() {
    for body in [
        &br#"{"collection":[{"status":"available"}]}"#[..],
        br#"{"collection":[{"start_time":"tomorrow"}]}"#,
        br#"{"collection":[{"start_time":7}]}"#,
        br#"{"collection":{}}"#,
        br#"{}"#,
        b"<html>",
    ] {
        assert!(matches!(
            available_times(&Bytes::from_static(body)),
            Err(ProviderError::Unavailable { .. })
        ));
    }
    assert!(matches!(
        busy_times(&Bytes::from_static(
            br#"{"collection":[{"start_time":"2030-01-02T20:00:00Z"}]}"#
        )),
        Err(ProviderError::Unavailable { .. })
    ));
    assert!(matches!(
        event_types_page(&Bytes::from_static(
            br#"{"collection":[{"name":"no uri"}],"pagination":{}}"#
        )),
        Err(ProviderError::Unavailable { .. })
    ));
    assert!(matches!(
        current_user(br#"{"resource":{"uri":"https://api.calendly.com/users/A"}}"#),
        Err(ProviderError::Unavailable { .. })
    ));
}
