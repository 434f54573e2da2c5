//! The flat reader: what it reads, and that it leaves to serde what it cannot be sure of.

use super::*;

fn three(object: &str) -> Option<[Written<'_>; 3]> {
    fields(object, AVAILABLE_TIME_KEYS)
}

#[test]
fn keys_of_a_flat_object_are_read_as_written() {
    let object = r#"{"status":"available","invitees_remaining": 3 ,"start_time":"2030-01-07T09:00:00Z","scheduling_url":null}"#;
    assert_eq!(
        three(object),
        Some([
            Written::Text("2030-01-07T09:00:00Z"),
            Written::Bare("3"),
            Written::Bare("null")
        ])
    );
    assert_eq!(
        three(" { \"status\" : \"available\" } "),
        Some([Written::Missing; 3])
    );
    assert_eq!(three("{}"), Some([Written::Missing; 3]));
    assert_eq!(
        three(r#"{"note":"say \"hi\" \\","start_time":"x"}"#),
        Some([Written::Text("x"), Written::Missing, Written::Missing]),
        "an escape in a value not asked for is skipped over"
    );
}

#[test]
fn what_is_not_certain_is_left_to_serde() {
    for object in [
        r#"{"scheduling_url":"a\"b"}"#,
        r#"{"start_time":"x","start_time":"y"}"#,
        r#"{"a":{"start_time":"x"}}"#,
        r#"{"a":["start_time"],"start_time":"x"}"#,
        r#"{"start\u005ftime":"x"}"#,
        r#"["start_time"]"#,
        r#"{"start_time":"x""#,
        r#"{"start_time":"x"} {"#,
    ] {
        assert_eq!(three(object), None, "{object}");
    }
}

#[test]
fn a_plain_collection_is_split_where_each_object_lies() {
    let body = r#" { "collection" : [ {"start_time":"a","invitees_remaining":1,"x":-0.5e+3} , {"start_time":"b","ok":true,"n":null,"f":false} ] } "#;
    let objects = collection(body, AVAILABLE_TIME_KEYS).expect("plain");
    assert_eq!(objects.len(), 2);
    assert_eq!(
        &body[objects[0].0.clone()],
        r#"{"start_time":"a","invitees_remaining":1,"x":-0.5e+3}"#
    );
    assert_eq!(objects[0].1[1], Written::Bare("1"));
    assert_eq!(
        &body[objects[1].0.clone()],
        r#"{"start_time":"b","ok":true,"n":null,"f":false}"#
    );
    assert_eq!(
        collection(r#"{"collection":[]}"#, AVAILABLE_TIME_KEYS).map(|o| o.len()),
        Some(0)
    );
}

/// What an object writes for the keys of an available time.
type Three<'a> = [Written<'a>; 3];

/// A collection's objects, each read as [`collection`] reads it and as [`fields`] reads it alone.
fn read_both(body: &str) -> Option<Vec<(Three<'_>, Option<Three<'_>>)>> {
    Some(
        collection(body, AVAILABLE_TIME_KEYS)?
            .into_iter()
            .map(|(place, found)| (found, fields(&body[place], AVAILABLE_TIME_KEYS)))
            .collect(),
    )
}

#[test]
fn objects_written_alike_but_for_digits_are_read_as_each_alone() {
    let object = |hour: u32, seats: &str, status: &str| {
        format!(
            r#"{{"status":"{status}","invitees_remaining":{seats},"start_time":"2030-01-07T{hour:02}:00:00.000000Z","scheduling_url":"https://calendly.com/a1/b2/2030-01-07T{hour:02}:00:00Z","n{hour}":{hour}}}"#
        )
    };
    let body = format!(
        r#"{{"collection":[{}]}}"#,
        [
            object(10, "1", "available"),
            object(11, "2", "available"),
            // A non-digit changed (another length, then the same length): read in full, and
            // the pattern for the next.
            object(12, "null", "available"),
            object(13, "null", "availablx"),
            object(14, "null", "availablx"),
            object(15, "7", "available"),
            object(16, "8", "available"),
        ]
        .join(",")
    );
    let read = read_both(&body).expect("plain");
    assert_eq!(read.len(), 7);
    for (found, alone) in &read {
        assert_eq!(Some(*found), *alone);
    }
    assert_eq!(
        read.iter().map(|(found, _)| found[0]).collect::<Vec<_>>(),
        (10..17)
            .map(|hour| format!("2030-01-07T{hour:02}:00:00.000000Z"))
            .collect::<Vec<_>>()
            .iter()
            .map(|text| Written::Text(text))
            .collect::<Vec<_>>()
    );
    assert_eq!(read[1].0[1], Written::Bare("2"));
    assert_eq!(read[4].0[1], Written::Bare("null"));
    assert_eq!(read[6].0[1], Written::Bare("8"));
    // Read by pattern: the second object after the first, not a third unlike it.
    let first = body.find(r#"{"status""#).expect("an object");
    let mut bare = Vec::new();
    let (found, end) = walk(
        &body,
        first,
        AVAILABLE_TIME_KEYS,
        Checked::Here,
        Some(&mut bare),
    )
    .expect("read");
    let pattern = Pattern::of(&body, first..end, &found, bare);
    let second = end + 1;
    assert_eq!(pattern.read(&body, second).expect("alike").0, read[1].0);
    let third = second + 1 + body[second + 1..].find(r#"{"status""#).expect("a third");
    assert!(pattern.read(&body, third).is_none(), "null is not a digit");
}

#[test]
fn a_key_asked_for_that_holds_a_digit_is_never_read_by_pattern() {
    // By pattern, the second object's "n11" would be read as the "n10" asked for.
    let body = r#"{"collection":[{"n10":1},{"n11":2}]}"#;
    let read = collection(body, ["n10", "x", "y"]).expect("plain");
    assert_eq!(read[0].1[0], Written::Bare("1"));
    assert_eq!(read[1].1[0], Written::Missing);
}

#[test]
fn bytes_are_alike_exactly_where_they_are_equal_or_both_digits() {
    // Every pair of bytes, at each place of a word and in the remainder after the words, the
    // other bytes equal; then two places differing at once.
    let base = *b"2030-01-07T09:";
    for x in 0..=u8::MAX {
        for y in 0..=u8::MAX {
            let expected = x == y || (x.is_ascii_digit() && y.is_ascii_digit());
            for at in [0, 3, 7, 8, 13] {
                let (mut a, mut b) = (base, base);
                (a[at], b[at]) = (x, y);
                assert_eq!(alike(&a, &b), expected, "{x} and {y} at {at}");
            }
            let (mut a, mut b) = (base, base);
            (a[1], b[1], a[6], b[6]) = (b'5', b'7', x, y);
            assert_eq!(alike(&a, &b), expected, "{x} and {y} beside a digit");
        }
    }
    assert!(!alike(b"12345678", b"1234567"));
}

#[test]
fn a_number_made_invalid_by_its_digits_is_not_read_by_pattern() {
    for second in [
        r#"{"x":"b","n":01}"#,
        r#"{"x":"b","n":-0}"#,
        r#"{"x":"9","n":10}"#,
    ] {
        let body = format!(r#"{{"collection":[{{"x":"a","n":10}},{second}]}}"#);
        let serde_reads = serde_json::from_str::<serde_json::Value>(&body).is_ok();
        assert_eq!(
            collection(&body, AVAILABLE_TIME_KEYS).is_some(),
            serde_reads,
            "{body}"
        );
    }
}

#[test]
fn a_collection_not_plainly_written_is_left_to_serde() {
    for body in [
        r#"{"collection":[{"a":"\n"}]}"#,
        "{\"collection\":[{\"a\":\"tab\there\"}]}",
        r#"{"collection":[{"a":tru}]}"#,
        r#"{"collection":[{"a":01}]}"#,
        r#"{"collection":[{"a":1.}]}"#,
        r#"{"collection":[{"a":1e}]}"#,
        r#"{"collection":[{"a":+1}]}"#,
        r#"{"collection":[{"a":"x"},]}"#,
        r#"{"collection":[{"a":"x"}],"pagination":{"next_page_token":null}}"#,
        r#"{"collection":[{"a":"x"}]} x"#,
        r#"{"collection":[{"a":{"b":1}}]}"#,
        r#"{"collection":[1]}"#,
        r#"{"other":[]}"#,
        r#"{"collection":[{"a":"x"}"#,
    ] {
        assert!(collection(body, AVAILABLE_TIME_KEYS).is_none(), "{body}");
    }
}

#[test]
fn numbers_are_json_s() {
    for word in [
        "0", "-0", "12", "-3.25", "1e5", "1E-5", "2.5e+10", "true", "false", "null",
    ] {
        assert!(json_word(word), "{word}");
    }
    for word in [
        "", "-", "00", "01", ".5", "5.", "1e", "1e+", "+1", "NaN", "Infinity", "nul", "0x1",
    ] {
        assert!(!json_word(word), "{word}");
    }
}

#[test]
fn the_first_quote_backslash_or_control_character_is_found_wherever_it_lies() {
    for length in 0..24 {
        for at in 0..length {
            for special_byte in [b'"', b'\\', 0x00, 0x1f, b'\n'] {
                let mut bytes = vec![b'a'; length];
                bytes[at] = special_byte;
                // Bytes above it that could confuse a word-at-a-time search.
                if at + 1 < length {
                    bytes[at + 1] = 0x01;
                }
                assert_eq!(
                    special(&bytes, 0),
                    Some(at),
                    "{special_byte} at {at} of {length}"
                );
            }
        }
        let plain: Vec<u8> = (0..length).map(|i| b"a \x7f~\xc3\xa9!#"[i % 8]).collect();
        assert_eq!(special(&plain, 0), None, "{length}");
    }
    assert_eq!(special(b"ab\"cd\"", 3), Some(5));
}
