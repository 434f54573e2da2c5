//! Available times: shared runs, merged, cut and written.

use bytes::Bytes;
use chrono::TimeZone;

use super::*;

fn at(hour: u32, tag: &str) -> AvailableTime {
    AvailableTime {
        start_time: Utc.with_ymd_and_hms(2030, 1, 2, hour, 0, 0).unwrap(),
        seats_left: None,
        booking_url: None,
        json: RawJson::parsed(Bytes::from(format!(r#"{{"t":"{tag}{hour}"}}"#))),
    }
}

fn tags(times: &AvailableTimes) -> Vec<String> {
    times
        .iter()
        .map(|time| time.json.text().into_owned())
        .collect()
}

#[test]
fn a_list_is_sorted_and_each_start_kept_once() {
    let times = AvailableTimes::from(vec![at(11, "a"), at(9, "a"), at(11, "b"), at(10, "a")]);
    assert_eq!(
        tags(&times),
        [r#"{"t":"a9"}"#, r#"{"t":"a10"}"#, r#"{"t":"a11"}"#]
    );
    assert_eq!(times.len(), 3);
}

#[test]
fn pieces_in_order_are_their_runs_shared() {
    let first = Arc::new(TimeList::new(vec![at(9, "a"), at(10, "a"), at(11, "a")]));
    let second = Arc::new(TimeList::new(vec![at(12, "b"), at(13, "b")]));
    let merged = AvailableTimes::merged([
        AvailableTimes::shared(Arc::clone(&first), 1..3),
        AvailableTimes::default(),
        AvailableTimes::shared(Arc::clone(&second), 0..1),
    ]);
    assert_eq!(
        tags(&merged),
        [r#"{"t":"a10"}"#, r#"{"t":"a11"}"#, r#"{"t":"b12"}"#]
    );
    assert_eq!(merged.runs.len(), 2);
    assert!(Arc::ptr_eq(&merged.runs[0].0, &first));
}

#[test]
fn overlapping_pieces_are_sorted_and_each_start_kept_once_from_the_first() {
    let merged = AvailableTimes::merged([
        AvailableTimes::from(vec![at(9, "a"), at(11, "a")]),
        AvailableTimes::from(vec![at(10, "b"), at(11, "b"), at(12, "b")]),
        AvailableTimes::from(vec![at(8, "c")]),
    ]);
    assert_eq!(
        tags(&merged),
        [
            r#"{"t":"c8"}"#,
            r#"{"t":"a9"}"#,
            r#"{"t":"b10"}"#,
            r#"{"t":"a11"}"#,
            r#"{"t":"b12"}"#
        ]
    );
}

#[test]
fn a_range_outside_the_list_is_cut_to_it() {
    let times = Arc::new(TimeList::new(vec![at(9, "a")]));
    assert_eq!(AvailableTimes::shared(Arc::clone(&times), 0..5).len(), 1);
    assert!(AvailableTimes::shared(times, 3..5).is_empty());
}

#[test]
fn starting_at_drops_what_starts_before_across_runs() {
    let first = Arc::new(TimeList::new(vec![at(9, "a"), at(10, "a")]));
    let second = Arc::new(TimeList::new(vec![at(11, "b"), at(12, "b")]));
    let times = AvailableTimes::merged([
        AvailableTimes::shared(first, 0..2),
        AvailableTimes::shared(second, 0..2),
    ]);
    let hour = |hour| Utc.with_ymd_and_hms(2030, 1, 2, hour, 0, 0).unwrap();
    let tagged = |tags: &[&str]| -> Vec<String> {
        tags.iter()
            .map(|tag| format!(r#"{{"t":"{tag}"}}"#))
            .collect()
    };
    assert_eq!(
        tags(&times.clone().starting_at(hour(8))),
        tagged(&["a9", "a10", "b11", "b12"])
    );
    assert_eq!(
        tags(&times.clone().starting_at(hour(10))),
        tagged(&["a10", "b11", "b12"])
    );
    assert_eq!(
        tags(&times.clone().starting_at(hour(11))),
        tagged(&["b11", "b12"])
    );
    let last = times.clone().starting_at(hour(12));
    assert_eq!(tags(&last), tagged(&["b12"]));
    assert_eq!(last.len(), 1);
    assert!(times.starting_at(hour(13)).is_empty());
}

/// Times written one after another in one buffer, comma-separated, as a cache writes them.
fn joined(hours: &[u32]) -> (Vec<AvailableTime>, Bytes) {
    let texts: Vec<String> = hours
        .iter()
        .map(|hour| format!(r#"{{"t":"j{hour}"}}"#))
        .collect();
    let whole = Bytes::from(texts.join(","));
    let mut begin = 0;
    let times = hours
        .iter()
        .zip(&texts)
        .map(|(hour, text)| {
            let json = RawJson::parsed(whole.slice(begin..begin + text.len()));
            begin += text.len() + 1;
            AvailableTime {
                json,
                ..at(*hour, "j")
            }
        })
        .collect();
    (times, whole)
}

fn written(times: &AvailableTimes) -> (String, usize) {
    let pieces: Vec<JsonPiece<'_>> = times.json_pieces().collect();
    let text = pieces
        .iter()
        .map(|piece| String::from_utf8(piece.as_ref().to_vec()).expect("utf-8"))
        .collect::<Vec<_>>()
        .join(",");
    (text, pieces.len())
}

#[test]
fn a_run_of_a_joined_list_is_written_as_one_piece() {
    let (times, whole) = joined(&[9, 10, 11, 12]);
    let list = Arc::new(TimeList::joined(times, whole));
    let hour = |hour| Utc.with_ymd_and_hms(2030, 1, 2, hour, 0, 0).unwrap();
    let all = AvailableTimes::shared(Arc::clone(&list), 0..4);
    assert_eq!(
        written(&all),
        (
            r#"{"t":"j9"},{"t":"j10"},{"t":"j11"},{"t":"j12"}"#.to_owned(),
            1
        )
    );
    let middle = AvailableTimes::shared(Arc::clone(&list), 1..3);
    assert_eq!(
        written(&middle),
        (r#"{"t":"j10"},{"t":"j11"}"#.to_owned(), 1)
    );
    assert_eq!(
        written(&all.starting_at(hour(12))),
        (r#"{"t":"j12"}"#.to_owned(), 1)
    );
    let plain = AvailableTimes::from(vec![at(13, "p"), at(14, "p")]);
    let both = AvailableTimes::merged([middle, plain]);
    assert_eq!(
        written(&both),
        (
            r#"{"t":"j10"},{"t":"j11"},{"t":"p13"},{"t":"p14"}"#.to_owned(),
            3
        ),
        "a list not joined is written time by time"
    );
}

#[test]
fn a_list_not_laid_out_in_its_buffer_is_kept_without_it() {
    let (mut times, whole) = joined(&[9, 10, 11]);
    times.swap(0, 1);
    times.swap(0, 2);
    let list = Arc::new(TimeList::joined(times, whole.clone()));
    assert!(list.joined.is_none(), "out of order");
    let (times, _) = joined(&[9, 10]);
    let list = Arc::new(TimeList::joined(times, Bytes::from_static(b"elsewhere")));
    assert!(list.joined.is_none(), "another buffer");
    let list = AvailableTimes::shared(list, 0..2);
    assert_eq!(written(&list), (r#"{"t":"j9"},{"t":"j10"}"#.to_owned(), 2));
}

#[test]
fn an_answer_read_in_place_is_written_as_one_piece_once_sorted() {
    let (times, whole) = joined(&[9, 10, 11]);
    let read = AvailableTimes::joined(times, whole.clone());
    assert_eq!(
        written(&read),
        (r#"{"t":"j9"},{"t":"j10"},{"t":"j11"}"#.to_owned(), 1)
    );
    // Given out of order (or a start twice), the times are sorted as any list is, and then
    // written one by one.
    let (mut times, whole) = joined(&[9, 10, 11]);
    times.swap(0, 2);
    times.push(at(10, "again"));
    let read = AvailableTimes::joined(times, whole);
    assert_eq!(
        written(&read),
        (r#"{"t":"j9"},{"t":"j10"},{"t":"j11"}"#.to_owned(), 3)
    );
}
