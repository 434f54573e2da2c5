//! Fields read straight out of a flat JSON object (no object nested in it), without parsing
//! it whole: the fast path for the thousands of available times an answer may hold. Anything
//! it cannot read with certainty is left to serde.

use std::sync::LazyLock;

use memchr::memmem;

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
pub(super) static START_TIME: LazyLock<memmem::Finder<'static>> =
    LazyLock::new(|| memmem::Finder::new(b"\"start_time\""));
pub(super) static INVITEES_REMAINING: LazyLock<memmem::Finder<'static>> =
    LazyLock::new(|| memmem::Finder::new(b"\"invitees_remaining\""));
pub(super) static SCHEDULING_URL: LazyLock<memmem::Finder<'static>> =
    LazyLock::new(|| memmem::Finder::new(b"\"scheduling_url\""));

/// Whether `object` holds no object within it (so that a key found in it is its own).
pub(super) fn is_flat(object: &str) -> bool {
    object
        .as_bytes()
        .get(1..)
        .is_some_and(|rest| memchr::memchr(b'{', rest).is_none())
}

/// What the flat `object` writes for the key `finder` looks for; `None` when that is not
/// certain (the key written twice, or within a string, or a string with escapes).
pub(super) fn written<'a>(object: &'a str, finder: &memmem::Finder<'_>) -> Option<Written<'a>> {
    let bytes = object.as_bytes();
    let Some(found) = finder.find(bytes) else {
        return Some(Written::Missing);
    };
    let at = found + finder.needle().len();
    if finder.find(&bytes[at..]).is_some() {
        return None;
    }
    let value = object[at..].trim_start().strip_prefix(':')?.trim_start();
    if let Some(text) = value.strip_prefix('"') {
        let text = &text[..memchr::memchr(b'"', text.as_bytes())?];
        return memchr::memchr(b'\\', text.as_bytes())
            .is_none()
            .then_some(Written::Text(text));
    }
    let end = value
        .find(|c: char| c == ',' || c == '}' || c.is_whitespace())
        .unwrap_or(value.len());
    let bare = &value[..end];
    (!bare.is_empty() && !bare.contains('"')).then_some(Written::Bare(bare))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_of_a_flat_object_are_read_as_written() {
        let object = r#"{"status":"available","invitees_remaining": 3 ,"start_time":"2030-01-07T09:00:00Z","scheduling_url":null}"#;
        assert!(is_flat(object));
        assert_eq!(
            written(object, &START_TIME),
            Some(Written::Text("2030-01-07T09:00:00Z"))
        );
        assert_eq!(
            written(object, &INVITEES_REMAINING),
            Some(Written::Bare("3"))
        );
        assert_eq!(
            written(object, &SCHEDULING_URL),
            Some(Written::Bare("null"))
        );
        assert_eq!(
            written(r#"{"status":"available"}"#, &SCHEDULING_URL),
            Some(Written::Missing)
        );
        assert_eq!(
            written(r#"{"scheduling_url":"a\"b"}"#, &SCHEDULING_URL),
            None,
            "escapes are serde's"
        );
        assert_eq!(
            written(r#"{"start_time":"x","start_time":"y"}"#, &START_TIME),
            None,
            "a key written twice is serde's"
        );
        assert!(!is_flat(r#"{"a":{"start_time":"x"}}"#));
    }
}
