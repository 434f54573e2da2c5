//! Fields read straight out of a flat JSON object (no object or array within it), in one pass
//! and without parsing it whole: the fast path for the thousands of available times an answer
//! may hold. The object has been read as JSON already (serde split the list); anything this
//! cannot read with certainty is left to serde.

/// What a flat object writes for one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Written<'a> {
    /// The key is not there.
    Missing,
    /// A string with no escape in it.
    Text(&'a str),
    /// A number, `true`, `false` or `null`, as written.
    Bare(&'a str),
}

/// The keys of an available time that the gateway reads.
pub(super) const AVAILABLE_TIME_KEYS: [&str; 3] =
    ["start_time", "invitees_remaining", "scheduling_url"];

/// What the flat `object` writes for each of `keys`; `None` when that is not certain (an
/// object or array within it, a key with an escape, one of `keys` written twice or its string
/// holding an escape): serde's to read.
pub(super) fn fields<'a, const N: usize>(
    object: &'a str,
    keys: [&str; N],
) -> Option<[Written<'a>; N]> {
    let bytes = object.as_bytes();
    let mut found = [Written::Missing; N];
    let mut at = blank(bytes, 0);
    if bytes.get(at) != Some(&b'{') {
        return None;
    }
    at = blank(bytes, at + 1);
    if bytes.get(at) == Some(&b'}') {
        return Some(found);
    }
    loop {
        let (key, escaped, after) = string(object, at)?;
        if escaped {
            return None;
        }
        at = blank(bytes, after);
        if bytes.get(at) != Some(&b':') {
            return None;
        }
        at = blank(bytes, at + 1);
        let (value, after) = match bytes.get(at)? {
            b'"' => {
                let (text, escaped, after) = string(object, at)?;
                (
                    if escaped {
                        None
                    } else {
                        Some(Written::Text(text))
                    },
                    after,
                )
            }
            b'{' | b'[' => return None,
            _ => {
                let end = bytes[at..]
                    .iter()
                    .position(|b| matches!(b, b',' | b'}' | b' ' | b'\t' | b'\n' | b'\r'))
                    .map_or(bytes.len(), |length| at + length);
                (Some(Written::Bare(&object[at..end])), end)
            }
        };
        if let Some(index) = keys.iter().position(|wanted| *wanted == key) {
            if found[index] != Written::Missing {
                return None;
            }
            found[index] = value?;
        }
        at = blank(bytes, after);
        match bytes.get(at)? {
            b',' => at = blank(bytes, at + 1),
            b'}' => return Some(found),
            _ => return None,
        }
    }
}

/// The first byte at or after `at` that is not JSON whitespace.
fn blank(bytes: &[u8], mut at: usize) -> usize {
    while matches!(bytes.get(at), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        at += 1;
    }
    at
}

/// The string starting with the quote at `at`: its text as written (between the quotes),
/// whether it holds an escape, and where it ends (after the closing quote).
fn string(object: &str, at: usize) -> Option<(&str, bool, usize)> {
    let bytes = object.as_bytes();
    if bytes.get(at) != Some(&b'"') {
        return None;
    }
    let start = at + 1;
    let mut from = start;
    let mut escaped = false;
    loop {
        let next = from + memchr::memchr2(b'"', b'\\', bytes.get(from..)?)?;
        if bytes[next] == b'"' {
            return Some((object.get(start..next)?, escaped, next + 1));
        }
        escaped = true;
        // The escaped character (a quote, a backslash, or the first of \uXXXX) is skipped.
        from = next + 2;
    }
}

#[cfg(test)]
mod tests {
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
        ] {
            assert_eq!(three(object), None, "{object}");
        }
    }
}
