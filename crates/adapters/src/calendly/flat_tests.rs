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
