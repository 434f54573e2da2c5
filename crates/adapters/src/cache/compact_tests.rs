//! The compact form of available times: every slot back byte for byte.

use super::*;
use crate::test_described::described;

fn time(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).expect("time").to_utc()
}

/// The times of `compact` within `range`, written out anew; asserted the same when read from
/// the times kept ready (written on the first such read, shared on the next) and when the
/// budget has no room.
fn both(compact: &CompactTimes, range: TimeRange) -> Vec<AvailableTime> {
    let written = compact.written_within(range);
    let room = ReadyBudget::new(1 << 20);
    let joined: Vec<u8> = written
        .iter()
        .map(|time| time.json.as_bytes())
        .collect::<Vec<_>>()
        .join(&b","[..]);
    for _ in 0..2 {
        let ready = compact.within(range, &room);
        assert_eq!(described(&ready.to_vec()), described(&written));
        // Written in one buffer when kept ready: the times of a range are one piece of it.
        let pieces: Vec<_> = ready.json_pieces().collect();
        assert!(pieces.len() <= 1, "{} pieces", pieces.len());
        assert_eq!(
            pieces
                .iter()
                .flat_map(|piece| piece.as_ref().to_vec())
                .collect::<Vec<u8>>(),
            joined
        );
    }
    let none = ReadyBudget::new(0);
    assert_eq!(
        described(&compact.within(range, &none).to_vec()),
        described(&written)
    );
    written
}

fn slot(json: &str) -> AvailableTime {
    let start: serde_json::Value = serde_json::from_str(json).expect("json");
    AvailableTime {
        start_time: time(start["start_time"].as_str().expect("start")),
        seats_left: start["invitees_remaining"].as_u64(),
        booking_url: start["scheduling_url"].as_str().map(str::to_owned),
        json: RawJson::parse(json.to_owned()).expect("json"),
    }
}

#[test]
fn every_slot_comes_back_byte_for_byte_sharing_one_skeleton() {
    let jsons: Vec<String> = (9..17)
        .map(|hour| {
            format!(
                r#"{{"status":"available","invitees_remaining":1,"start_time":"2030-01-02T{hour:02}:00:00.000000Z","scheduling_url":"https://calendly.com/acme/30min/2030-01-02T{hour:02}:00:00Z?month=2030-01&date=2030-01-02"}}"#
            )
        })
        .collect();
    let week =
        TimeRange::new(time("2030-01-01T00:00:00Z"), time("2030-01-08T00:00:00Z")).expect("range");
    let compact = CompactTimes::new(jsons.iter().rev().map(|j| slot(j)).collect(), week);
    assert_eq!(compact.skeletons.len(), 1, "one skeleton for all eight");
    assert!(compact.skeleton_of.is_empty() && compact.nanos.is_empty());
    let range =
        TimeRange::new(time("2030-01-01T00:00:00Z"), time("2030-01-03T00:00:00Z")).expect("range");
    let back: Vec<String> = both(&compact, range)
        .iter()
        .map(|t| t.json.text().into_owned())
        .collect();
    assert_eq!(back, jsons);
    for (at, time) in both(&compact, range).iter().enumerate() {
        let hour = at + 9;
        assert_eq!(time.seats_left, Some(1));
        assert_eq!(
            time.booking_url.as_deref(),
            Some(format!("https://calendly.com/acme/30min/2030-01-02T{hour:02}:00:00Z?month=2030-01&date=2030-01-02").as_str()),
            "each slot's own URL"
        );
    }
    assert!(compact.size() < jsons.iter().map(String::len).sum::<usize>() / 3);
}

#[test]
fn the_forms_are_written_as_chrono_writes_them() {
    let at = time("2030-01-02T03:04:05.678901Z");
    for (form, pattern) in [
        "%Y-%m-%dT%H:%M:%S%.6fZ",
        "%Y-%m-%dT%H:%M:%S%.3fZ",
        "%Y-%m-%dT%H:%M:%SZ",
        "%Y-%m-%d",
        "%Y-%m",
    ]
    .iter()
    .enumerate()
    {
        let mut written = Vec::new();
        assert!(write_form(&mut written, form, at));
        assert_eq!(
            String::from_utf8(written).expect("utf-8"),
            at.format(pattern).to_string()
        );
    }
}

#[test]
fn windows_alike_share_their_skeletons() {
    let day = |d: u32| {
        TimeRange::new(
            time(&format!("2030-01-{d:02}T00:00:00Z")),
            time(&format!("2030-01-{:02}T00:00:00Z", d + 1)),
        )
        .expect("range")
    };
    let at = |d: u32| {
        slot(&format!(
            r#"{{"start_time":"2030-01-{d:02}T09:00:00Z","x":1}}"#
        ))
    };
    let first = CompactTimes::new(vec![at(2)], day(2));
    let second = CompactTimes::new(vec![at(3)], day(3))
        .sharing(&first)
        .expect("shared");
    assert!(Arc::ptr_eq(&first.skeletons, &second.skeletons));
    assert!(second.sharing(&first).is_none(), "already shared");
    let other = CompactTimes::new(
        vec![slot(r#"{"start_time":"2030-01-04T09:00:00Z","x":2}"#)],
        day(4),
    );
    assert!(other.sharing(&first).is_none());
    assert_eq!(
        both(&second, day(3))[0].json.text(),
        r#"{"start_time":"2030-01-03T09:00:00Z","x":1}"#
    );
}

#[test]
fn sub_second_starts_are_kept_exactly() {
    let jsons = [
        r#"{"start_time":"2030-01-02T09:00:00.250000Z"}"#,
        r#"{"start_time":"2030-01-02T09:30:00.000000Z"}"#,
    ];
    let day =
        TimeRange::new(time("2030-01-02T00:00:00Z"), time("2030-01-03T00:00:00Z")).expect("range");
    let compact = CompactTimes::new(jsons.iter().map(|j| slot(j)).collect(), day);
    let back = both(&compact, day);
    assert_eq!(back[0].start_time, time("2030-01-02T09:00:00.25Z"));
    assert_eq!(back[1].start_time, time("2030-01-02T09:30:00Z"));
    assert_eq!(back[0].json.text(), jsons[0]);
    let later = TimeRange::new(time("2030-01-02T09:00:00.3Z"), time("2030-01-03T00:00:00Z"))
        .expect("range");
    assert_eq!(both(&compact, later).len(), 1);
}

#[test]
fn a_range_takes_the_slots_from_its_start_and_stops_before_its_end() {
    let jsons = [
        r#"{"start_time":"2030-01-02T09:00:00Z"}"#,
        r#"{"start_time":"2030-01-02T09:30:00Z"}"#,
        r#"{"start_time":"2030-01-02T10:00:00Z"}"#,
    ];
    let day =
        TimeRange::new(time("2030-01-02T00:00:00Z"), time("2030-01-03T00:00:00Z")).expect("range");
    let compact = CompactTimes::new(jsons.iter().map(|j| slot(j)).collect(), day);
    let starts = |from: &str, to: &str| {
        let range = TimeRange::new(time(from), time(to)).expect("range");
        both(&compact, range)
            .iter()
            .map(|t| t.start_time)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        starts("2030-01-02T09:30:00Z", "2030-01-02T10:00:00Z"),
        [time("2030-01-02T09:30:00Z")]
    );
    assert_eq!(
        starts("2030-01-02T09:29:59.999Z", "2030-01-02T10:00:00.001Z"),
        [time("2030-01-02T09:30:00Z"), time("2030-01-02T10:00:00Z")]
    );
    assert!(starts("2030-01-02T08:00:00Z", "2030-01-02T09:00:00Z").is_empty());
    assert!(starts("2030-01-02T10:00:00.5Z", "2030-01-02T11:00:00Z").is_empty());
}

#[test]
fn odd_slots_keep_their_own_skeleton_and_unknown_fields() {
    let jsons = [
        r#"{"start_time":"2030-01-02T09:00:00Z","new":{"a":[1,"2030-01"]},"status":"available"}"#,
        r#"{"start_time":"2030-01-02T10:00:00+00:00","status":"available"}"#,
        r#"{"status":"available","start_time":"2030-01-02T11:00:00.000Z","invitees_remaining":3}"#,
    ];
    let day =
        TimeRange::new(time("2030-01-02T00:00:00Z"), time("2030-01-03T00:00:00Z")).expect("range");
    let mut times: Vec<AvailableTime> = jsons.iter().map(|j| slot(j)).collect();
    times.push(slot(
        r#"{"start_time":"2030-01-03T00:00:00Z","outside":"the window"}"#,
    ));
    let compact = CompactTimes::new(times, day);
    assert_eq!(
        compact.offsets.len(),
        3,
        "what lies outside the window is not kept"
    );
    assert_eq!(compact.skeleton_of.len(), 3, "three skeletons, one a slot");
    let range =
        TimeRange::new(time("2030-01-02T09:00:00Z"), time("2030-01-02T11:00:00Z")).expect("range");
    let back: Vec<String> = both(&compact, range)
        .iter()
        .map(|t| t.json.text().into_owned())
        .collect();
    assert_eq!(back, jsons[..2], "the end is exclusive");
    let later =
        TimeRange::new(time("2030-01-02T10:30:00Z"), time("2030-01-03T00:00:00Z")).expect("range");
    let back = both(&compact, later);
    assert_eq!(back.len(), 1);
    assert_eq!(back[0].json.text(), jsons[2]);
    assert_eq!(back[0].start_time, time("2030-01-02T11:00:00Z"));
}

#[test]
fn a_window_read_is_kept_ready_within_the_budget_and_gives_its_bytes_back_when_dropped() {
    let week =
        TimeRange::new(time("2030-01-01T00:00:00Z"), time("2030-01-08T00:00:00Z")).expect("range");
    let slots = |hours: std::ops::Range<u32>| -> Vec<AvailableTime> {
        hours
            .map(|hour| {
                slot(&format!(
                    r#"{{"start_time":"2030-01-02T{hour:02}:00:00Z","x":1}}"#
                ))
            })
            .collect()
    };
    let first = CompactTimes::new(slots(9..17), week);
    let big = CompactTimes::new(slots(0..24), week);
    let budget = ReadyBudget::new(first.ready_size() + big.ready_size() - 1);
    let day =
        TimeRange::new(time("2030-01-02T10:00:00Z"), time("2030-01-02T12:00:00Z")).expect("range");
    let read = first.within(day, &budget);
    assert_eq!(read.len(), 2);
    let held = budget.used();
    assert!(held >= first.ready_size() && held > 0, "{held} bytes held");
    let again = first.within(week, &budget);
    assert_eq!(again.len(), 8);
    assert_eq!(budget.used(), held, "written once");

    // A window that would not fit is written for each answer and not kept.
    assert!(!budget.has_room(big.ready_size()));
    assert_eq!(big.within(week, &budget).len(), 24);
    assert_eq!(budget.used(), held);
    assert!(big.ready.get().is_none());

    // A copy (as the store makes when windows share skeletons) is not kept ready until read.
    let copy = first.clone();
    assert!(copy.ready.get().is_none());
    assert_eq!(copy, first);
    drop(first);
    assert_eq!(budget.used(), 0, "given back with the window");
    drop(read);
    assert_eq!(copy.within(day, &budget).len(), 2);
    assert_eq!(budget.used(), held);
}
