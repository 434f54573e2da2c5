//! An account's event types held in little memory: what the use cases read of each (its URI,
//! duration and whether it is active) as it is, and their JSON, which only the event types
//! endpoint answers, compressed in one block (LZ4: event types repeat their field names and
//! much of their values, a few times smaller). Every account's block is compressed against one
//! [`Dictionary`], since event types of different accounts share their form too (with the
//! stand-in's, 526 bytes an account become 132). Unpacked, the JSON is byte for byte what came.

use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use domain::{EventType, EventTypeUri, RawJson};

#[derive(Debug)]
struct Summary {
    /// Its URI: where it is written in the unpacked block (as it nearly always is, verbatim),
    /// or else the URI itself.
    uri: UriAt,
    duration_minutes: Option<u32>,
    active: bool,
    /// Where its JSON ends in the unpacked block.
    json_end: u32,
}

#[derive(Debug)]
enum UriAt {
    Block { start: u32, end: u32 },
    Own(EventTypeUri),
}

/// LZ4 looks this far back, into the dictionary too.
const DICTIONARY_BYTES: usize = 64 * 1024;

/// What every account's event types are compressed against: the first block packed (its last
/// 64 KiB), kept for the life of the store. Only ever read back as part of the account's own
/// block, so nothing of one account reaches another's answers.
#[derive(Debug, Default)]
pub(super) struct Dictionary(OnceLock<Arc<[u8]>>);

impl Dictionary {
    /// The dictionary, set from `block` if there is none yet; `None` while only empty blocks
    /// have come.
    fn for_block(&self, block: &[u8]) -> Option<Arc<[u8]>> {
        if block.is_empty() {
            return self.0.get().cloned();
        }
        let tail = &block[block.len().saturating_sub(DICTIONARY_BYTES)..];
        Some(Arc::clone(self.0.get_or_init(|| Arc::from(tail))))
    }
}

#[derive(Debug)]
pub(super) struct PackedEventTypes {
    summaries: Box<[Summary]>,
    compressed: Box<[u8]>,
    dictionary: Option<Arc<[u8]>>,
}

impl PackedEventTypes {
    /// `event_types`, packed against `dictionary`; `None` when their JSON is too large to index
    /// (over 4 GiB).
    pub(super) fn pack(event_types: &[EventType], dictionary: &Dictionary) -> Option<Self> {
        let mut block =
            Vec::with_capacity(event_types.iter().map(|t| t.json.as_bytes().len()).sum());
        let mut summaries = Vec::with_capacity(event_types.len());
        for event_type in event_types {
            let json_start = block.len();
            block.extend_from_slice(event_type.json.as_bytes());
            let written =
                find(&block[json_start..], event_type.uri.as_str().as_bytes()).and_then(|at| {
                    let start = u32::try_from(json_start + at).ok()?;
                    let end =
                        u32::try_from(json_start + at + event_type.uri.as_str().len()).ok()?;
                    Some(UriAt::Block { start, end })
                });
            summaries.push(Summary {
                uri: written.unwrap_or_else(|| UriAt::Own(event_type.uri.clone())),
                duration_minutes: event_type.duration_minutes,
                active: event_type.active,
                json_end: u32::try_from(block.len()).ok()?,
            });
        }
        let dictionary = dictionary.for_block(&block);
        let compressed = match &dictionary {
            Some(dictionary) => {
                lz4_flex::block::compress_prepend_size_with_dict(&block, dictionary)
            }
            None => lz4_flex::compress_prepend_size(&block),
        };
        Some(Self {
            summaries: summaries.into(),
            compressed: compressed.into(),
            dictionary,
        })
    }

    /// The event types as they were packed; `None` if the block does not unpack (it always
    /// does: it is the cache's own).
    pub(super) fn unpack(&self) -> Option<Arc<[EventType]>> {
        let block = match &self.dictionary {
            Some(dictionary) => {
                lz4_flex::block::decompress_size_prepended_with_dict(&self.compressed, dictionary)
            }
            None => lz4_flex::decompress_size_prepended(&self.compressed),
        };
        let block = Bytes::from(block.ok()?);
        let mut begin = 0;
        self.summaries
            .iter()
            .map(|summary| {
                let end = usize::try_from(summary.json_end).ok()?;
                let json = RawJson::parsed(block.get(begin..end).map(|_| block.slice(begin..end))?);
                begin = end;
                let uri = match &summary.uri {
                    UriAt::Own(uri) => uri.clone(),
                    UriAt::Block { start, end } => {
                        let range = usize::try_from(*start).ok()?..usize::try_from(*end).ok()?;
                        EventTypeUri::parse(std::str::from_utf8(block.get(range)?).ok()?).ok()?
                    }
                };
                Some(EventType {
                    uri,
                    duration_minutes: summary.duration_minutes,
                    active: summary.active,
                    json,
                })
            })
            .collect()
    }

    /// Bytes held, roughly.
    pub(super) fn size(&self) -> usize {
        self.compressed.len()
            + self
                .summaries
                .iter()
                .map(|s| {
                    std::mem::size_of::<Summary>()
                        + match &s.uri {
                            UriAt::Own(uri) => uri.as_str().len(),
                            UriAt::Block { .. } => 0,
                        }
                })
                .sum::<usize>()
            + 64
    }
}

/// Where `needle` first occurs in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return None;
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event_type(account: &str, i: usize) -> EventType {
        let uri = format!("https://api.calendly.com/event_types/{account}-{i}");
        EventType {
            uri: EventTypeUri::parse(&uri).expect("uri"),
            duration_minutes: (i != 2).then_some(15 * u32::try_from(i + 1).expect("small")),
            active: i % 4 != 3,
            json: RawJson::parse(format!(
                r##"{{"uri":"{uri}","name":"Meeting {i}","color":"#fff200","kind":"solo","custom_questions":[],"profile":{{"type":"User","owner":"https://api.calendly.com/users/{account}"}}}}"##
            ))
            .expect("json"),
        }
    }

    fn four(account: &str) -> Vec<EventType> {
        (0..4).map(|i| event_type(account, i)).collect()
    }

    fn assert_unpacks_as(packed: &PackedEventTypes, event_types: &[EventType]) {
        let unpacked = packed.unpack().expect("unpacked");
        assert_eq!(unpacked.len(), event_types.len());
        for (back, original) in unpacked.iter().zip(event_types) {
            assert_eq!(back.uri, original.uri);
            assert_eq!(back.duration_minutes, original.duration_minutes);
            assert_eq!(back.active, original.active);
            assert_eq!(back.json.as_bytes(), original.json.as_bytes());
        }
    }

    #[test]
    fn event_types_unpack_as_they_were_packed_in_less_room() {
        let dictionary = Dictionary::default();
        let first = four("ALICE");
        let packed = PackedEventTypes::pack(&first, &dictionary).expect("packed");
        assert_unpacks_as(&packed, &first);
        let raw: usize = first.iter().map(|t| t.json.as_bytes().len()).sum();
        assert!(
            packed.compressed.len() < raw / 2,
            "{} of {raw}",
            packed.compressed.len()
        );
        assert!(
            packed
                .summaries
                .iter()
                .all(|s| matches!(s.uri, UriAt::Block { .. }))
        );

        // Another account's, against the first's as dictionary: smaller again, and its own.
        let second = four("BOB");
        let alone = lz4_flex::compress_prepend_size(
            &second
                .iter()
                .flat_map(|t| t.json.as_bytes().to_vec())
                .collect::<Vec<u8>>(),
        );
        let packed = PackedEventTypes::pack(&second, &dictionary).expect("packed");
        assert_unpacks_as(&packed, &second);
        assert!(
            packed.compressed.len() * 2 < alone.len(),
            "{} with the dictionary, {} without",
            packed.compressed.len(),
            alone.len()
        );

        // A URI written escaped in its JSON is kept beside it.
        let escaped = EventType {
            json: RawJson::parse(r#"{"uri":"https:\/\/api.calendly.com\/event_types\/E"}"#)
                .expect("json"),
            uri: EventTypeUri::parse("https://api.calendly.com/event_types/E").expect("uri"),
            duration_minutes: None,
            active: true,
        };
        let packed =
            PackedEventTypes::pack(std::slice::from_ref(&escaped), &dictionary).expect("packed");
        assert_unpacks_as(&packed, std::slice::from_ref(&escaped));
    }

    #[test]
    fn an_empty_first_block_sets_no_dictionary() {
        let dictionary = Dictionary::default();
        let none = PackedEventTypes::pack(&[], &dictionary).expect("packed");
        assert!(none.dictionary.is_none());
        assert_eq!(none.unpack().expect("unpacked").len(), 0);
        let first = four("ALICE");
        let packed = PackedEventTypes::pack(&first, &dictionary).expect("packed");
        assert!(packed.dictionary.is_some());
        assert_unpacks_as(&packed, &first);
        let none = PackedEventTypes::pack(&[], &dictionary).expect("packed");
        assert_eq!(none.unpack().expect("unpacked").len(), 0);
    }

    #[test]
    fn kept_event_types_are_unpacked_once_while_the_budget_has_room() {
        use super::super::kept_types::KeptTypes;
        use super::super::ready::ReadyBudget;

        let types = four("ALICE");
        let pack = || PackedEventTypes::pack(&types, &Dictionary::default()).expect("packed");
        let budget = ReadyBudget::new(1 << 20);
        let kept = KeptTypes::new(pack(), std::time::Duration::from_secs(60));
        let first = kept.types(&budget).expect("types");
        let held = budget.used();
        assert!(held > 0);
        let second = kept.types(&budget).expect("types");
        assert!(Arc::ptr_eq(&first, &second), "unpacked once, then shared");
        assert_eq!(budget.used(), held);

        // No room: unpacked for each reader, nothing kept.
        let small = ReadyBudget::new(held - 1);
        let other = KeptTypes::new(pack(), std::time::Duration::from_secs(60));
        let (a, b) = (
            other.types(&small).expect("types"),
            other.types(&small).expect("types"),
        );
        assert!(!Arc::ptr_eq(&a, &b));
        assert_eq!(small.used(), 0);
        assert_eq!(a.len(), 4);

        drop(kept);
        assert_eq!(budget.used(), 0, "given back with the entry");
    }
}
