//! Fields read straight out of flat JSON objects (no object or array within them), in one pass
//! and without parsing them whole: the fast path for the thousands of available times an answer
//! may hold. Anything this cannot read with certainty is left to serde.

use std::ops::Range;

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

/// How sure the text is to be JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Checked {
    /// Read as JSON already (by serde): only what is asked for is looked at.
    Already,
    /// Not yet: every value is checked, and an escape anywhere is left to serde.
    Here,
}

/// What the flat `object` (read as JSON already) writes for each of `keys`; `None` when that
/// is not certain (an object or array within it, a key with an escape, one of `keys` written
/// twice or its string holding an escape): serde's to read.
pub(super) fn fields<'a, const N: usize>(
    object: &'a str,
    keys: [&str; N],
) -> Option<[Written<'a>; N]> {
    let (found, end) = walk(
        object,
        blank(object.as_bytes(), 0),
        keys,
        Checked::Already,
        None,
    )?;
    (blank(object.as_bytes(), end) == object.len()).then_some(found)
}

/// A whole answer that is exactly `{"collection":[…]}` of flat objects, each written plainly
/// (no escape, no number or word that is not JSON's): each object's place in `body` and what it
/// writes for `keys`. `None` for anything else, which serde reads (and refuses if it must).
pub(super) fn collection<'a, const N: usize>(
    body: &'a str,
    keys: [&str; N],
) -> Option<Vec<(Range<usize>, [Written<'a>; N])>> {
    let bytes = body.as_bytes();
    let mut at = blank(bytes, 0);
    if bytes.get(at) != Some(&b'{') {
        return None;
    }
    let (key, written, after) = string(body, blank(bytes, at + 1))?;
    if written != Plain::Yes || key != "collection" {
        return None;
    }
    at = blank(bytes, after);
    if bytes.get(at) != Some(&b':') {
        return None;
    }
    at = blank(bytes, at + 1);
    if bytes.get(at) != Some(&b'[') {
        return None;
    }
    let mut objects = Vec::with_capacity(bytes.len() / 160);
    at = blank(bytes, at + 1);
    if bytes.get(at) != Some(&b']') {
        // A key asked for that holds a digit could be made another by digits: no pattern then.
        let by_pattern = !keys
            .iter()
            .any(|key| key.bytes().any(|b| b.is_ascii_digit()));
        let mut pattern: Option<Pattern<N>> = None;
        loop {
            let read = pattern.as_ref().and_then(|pattern| pattern.read(body, at));
            let (found, end) = match read {
                Some(read) => read,
                None => {
                    let mut bare = Vec::new();
                    let (found, end) = walk(body, at, keys, Checked::Here, Some(&mut bare))?;
                    pattern = by_pattern.then(|| Pattern::of(body, at..end, &found, bare));
                    (found, end)
                }
            };
            objects.push((at..end, found));
            at = blank(bytes, end);
            match bytes.get(at)? {
                b',' => at = blank(bytes, at + 1),
                b']' => break,
                _ => return None,
            }
        }
    }
    at = blank(bytes, at + 1);
    if bytes.get(at) != Some(&b'}') || blank(bytes, at + 1) != bytes.len() {
        return None;
    }
    Some(objects)
}

/// The flat object starting at `at`: what it writes for `keys`, and where it ends (after its
/// `}`).
fn walk<'a, const N: usize>(
    text: &'a str,
    mut at: usize,
    keys: [&str; N],
    checked: Checked,
    mut bare_words: Option<&mut Vec<Range<usize>>>,
) -> Option<([Written<'a>; N], usize)> {
    let bytes = text.as_bytes();
    let mut found = [Written::Missing; N];
    if bytes.get(at) != Some(&b'{') {
        return None;
    }
    at = blank(bytes, at + 1);
    if bytes.get(at) == Some(&b'}') {
        return Some((found, at + 1));
    }
    loop {
        let (key, written, after) = string(text, at)?;
        if written == Plain::Escaped || (checked == Checked::Here && written != Plain::Yes) {
            return None;
        }
        at = blank(bytes, after);
        if bytes.get(at) != Some(&b':') {
            return None;
        }
        at = blank(bytes, at + 1);
        let (value, after) = match bytes.get(at)? {
            b'"' => {
                let (text, written, after) = string(text, at)?;
                if checked == Checked::Here && written != Plain::Yes {
                    return None;
                }
                (
                    (written != Plain::Escaped).then_some(Written::Text(text)),
                    after,
                )
            }
            b'{' | b'[' => return None,
            _ => {
                let end = bytes[at..]
                    .iter()
                    .position(|b| matches!(b, b',' | b'}' | b' ' | b'\t' | b'\n' | b'\r'))
                    .map_or(bytes.len(), |length| at + length);
                let bare = &text[at..end];
                if checked == Checked::Here && !json_word(bare) {
                    return None;
                }
                if let Some(words) = bare_words.as_deref_mut() {
                    words.push(at..end);
                }
                (Some(Written::Bare(bare)), end)
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
            b'}' => return Some((found, at + 1)),
            _ => return None,
        }
    }
}

/// An object read in full, as a pattern for those after it: the objects of one answer are
/// written alike, differing in the digits of their values (a time, the time in a booking URL,
/// seats left). An object as long as the pattern whose bytes differ from it only where both
/// hold a digit has its keys and its values where the pattern has them: a digit is never part
/// of JSON's structure, nor of an escape, and only a bare word (a number) can be made invalid
/// by one, so those are checked again. When a key asked for holds a digit, nothing is read by
/// pattern (a key changed digit for digit could then become or stop being it).
struct Pattern<const N: usize> {
    /// Where the pattern object lies in the body.
    place: Range<usize>,
    /// Where, within the object, each key's value is written.
    found: [Place; N],
    /// Where, within the object, its bare words are.
    bare: Vec<Range<usize>>,
}

/// Where a value is written within an object.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Place {
    Missing,
    Text(Range<usize>),
    Bare(Range<usize>),
}

impl<const N: usize> Pattern<N> {
    /// The object read at `place` as a pattern.
    fn of(
        body: &str,
        place: Range<usize>,
        found: &[Written<'_>; N],
        bare: Vec<Range<usize>>,
    ) -> Self {
        let within = |text: &str| {
            let begins =
                (text.as_ptr() as usize).wrapping_sub(body.as_ptr() as usize) - place.start;
            begins..begins + text.len()
        };
        let found = found.map(|written| match written {
            Written::Missing => Place::Missing,
            Written::Text(text) => Place::Text(within(text)),
            Written::Bare(word) => Place::Bare(within(word)),
        });
        let bare = bare
            .into_iter()
            .map(|word| word.start - place.start..word.end - place.start)
            .collect();
        Self { place, found, bare }
    }

    /// The object at `at`, when it is written as the pattern is but for digits: what it writes
    /// for each key, and where it ends.
    fn read<'a>(&self, body: &'a str, at: usize) -> Option<([Written<'a>; N], usize)> {
        let end = at + self.place.len();
        let object = body.get(at..end)?;
        let pattern = body.get(self.place.clone())?;
        if !alike(pattern.as_bytes(), object.as_bytes())
            || !self
                .bare
                .iter()
                .all(|word| object.get(word.clone()).is_some_and(json_word))
        {
            return None;
        }
        let mut found = [Written::Missing; N];
        for (written, place) in found.iter_mut().zip(&self.found) {
            *written = match place {
                Place::Missing => Written::Missing,
                Place::Text(within) => Written::Text(object.get(within.clone())?),
                Place::Bare(within) => Written::Bare(object.get(within.clone())?),
            };
        }
        Some((found, end))
    }
}

/// Whether `b` is `a` but for digits written in place of digits: eight bytes at a time (no
/// carry crosses from one byte to the next in either mask).
fn alike(a: &[u8], b: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    const LOWS: u64 = !HIGHS;
    // The high bit of each byte that is not zero.
    let nonzero = |word: u64| ((word & LOWS).wrapping_add(LOWS) | word) & HIGHS;
    // The high bit of each byte that is not an ASCII digit: a byte is one exactly when, with
    // `b'0'`'s bits flipped, it is below 10.
    let not_digit = |word: u64| {
        let flipped = word ^ (ONES * u64::from(b'0'));
        ((flipped & LOWS).wrapping_add(ONES * (0x80 - 10)) | flipped) & HIGHS
    };
    if a.len() != b.len() {
        return false;
    }
    let (mut a_words, mut b_words) = (a.chunks_exact(8), b.chunks_exact(8));
    for (x, y) in (&mut a_words).zip(&mut b_words) {
        let word = |chunk: &[u8]| u64::from_le_bytes(chunk.try_into().unwrap_or_default());
        let (x, y) = (word(x), word(y));
        if x != y && nonzero(x ^ y) & (not_digit(x) | not_digit(y)) != 0 {
            return false;
        }
    }
    a_words
        .remainder()
        .iter()
        .zip(b_words.remainder())
        .all(|(x, y)| x == y || (x.is_ascii_digit() && y.is_ascii_digit()))
}

/// The first byte at or after `at` that is not JSON whitespace.
fn blank(bytes: &[u8], mut at: usize) -> usize {
    while matches!(bytes.get(at), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        at += 1;
    }
    at
}

/// How a string is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Plain {
    /// As its text: no escape, no control character.
    Yes,
    /// With an escape.
    Escaped,
    /// With a control character written raw (which JSON does not allow), and no escape.
    Control,
}

/// The string starting with the quote at `at`: its text as written (between the quotes), how
/// it is written, and where it ends (after the closing quote).
fn string(text: &str, at: usize) -> Option<(&str, Plain, usize)> {
    let bytes = text.as_bytes();
    if bytes.get(at) != Some(&b'"') {
        return None;
    }
    let start = at + 1;
    let mut from = start;
    let mut written = Plain::Yes;
    loop {
        let next = special(bytes, from)?;
        match bytes[next] {
            b'"' => return Some((text.get(start..next)?, written, next + 1)),
            b'\\' => {
                written = Plain::Escaped;
                // The escaped character (a quote, a backslash, or the first of \uXXXX) is
                // skipped.
                from = next + 2;
            }
            _ => {
                if written == Plain::Yes {
                    written = Plain::Control;
                }
                from = next + 1;
            }
        }
    }
}

/// The first quote, backslash or control character at or after `from`: eight bytes at a time,
/// as serde looks for them.
fn special(bytes: &[u8], from: usize) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    // The high bit of each byte of `word` below `limit`: exact for the lowest such byte, which
    // is the only one read (a borrow may mark bytes above it).
    let below = |word: u64, limit: u8| word.wrapping_sub(ONES * u64::from(limit)) & !word & HIGHS;
    let mut at = from;
    while let Some(chunk) = bytes.get(at..at + 8) {
        let word = u64::from_le_bytes(chunk.try_into().ok()?);
        let found = below(word ^ (ONES * u64::from(b'"')), 1)
            | below(word ^ (ONES * u64::from(b'\\')), 1)
            | below(word, 0x20);
        if found != 0 {
            return Some(at + (found.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    bytes
        .get(at..)?
        .iter()
        .position(|b| matches!(b, b'"' | b'\\' | 0..=0x1f))
        .map(|length| at + length)
}

/// `true`, `false`, `null` or a number as JSON writes one.
fn json_word(word: &str) -> bool {
    if matches!(word, "true" | "false" | "null") {
        return true;
    }
    let bytes = word.as_bytes();
    let mut at = usize::from(bytes.first() == Some(&b'-'));
    let digits = |from: usize| {
        bytes[from..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count()
    };
    let whole = digits(at);
    if whole == 0 || (whole > 1 && bytes[at] == b'0') {
        return false;
    }
    at += whole;
    if bytes.get(at) == Some(&b'.') {
        let fraction = digits(at + 1);
        if fraction == 0 {
            return false;
        }
        at += 1 + fraction;
    }
    if matches!(bytes.get(at), Some(b'e' | b'E')) {
        at += 1;
        if matches!(bytes.get(at), Some(b'+' | b'-')) {
            at += 1;
        }
        let exponent = digits(at);
        if exponent == 0 {
            return false;
        }
        at += exponent;
    }
    at == bytes.len()
}

#[cfg(test)]
#[path = "flat_tests.rs"]
mod tests;
