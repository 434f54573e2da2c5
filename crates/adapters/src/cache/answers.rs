//! Whole answers to availability questions ([`domain::KeptAnswers`]), so that a question asked again
//! costs one look rather than a look at the account's event types, one at each window it
//! touches, and an answer put together from them.
//!
//! An answer is kept under the account's generations when it was made, and only when every
//! event type list and window it was made from was already kept when the question began (so
//! that it was made from those, not from ones that replaced them meanwhile); it lives until
//! the first of them expires. A forgetting moves the generations, after which it is never
//! found; while forgettings are not heard nothing is kept. So an answer kept here is given
//! exactly when the event types and windows it was made from would be.

use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use domain::{AskedTimes, AvailableTimes, CalendlyUserUri, EventTypeUri, TimeRange};
use tokio::time::Instant;

use super::generations::Generation;

use crate::hashing::{HashMap, RandomState};

/// Shards of the answers, each under its own lock.
const SHARDS: usize = 16;

/// Questions remembered as asked once, by their hash, each in the slot its hash picks (as many
/// slots as answers may be kept, within these): an answer is kept for a question asked before,
/// so that a question never asked again (a range that moves with every request) costs a
/// slot's write rather than an answer kept.
const SEEN_SLOTS: (usize, usize) = (1024, 1 << 18);

/// A question as kept, under the account's generations when it was asked.
pub(super) struct Question {
    pub(super) account: CalendlyUserUri,
    pub(super) event_type: Option<EventTypeUri>,
    pub(super) range: TimeRange,
    pub(super) generation: Generation,
}

/// One answer kept, with the question it answers.
pub(super) struct Answer {
    pub(super) question: Question,
    pub(super) expires: Instant,
    pub(super) times: AvailableTimes,
}

impl Answer {
    fn answers(&self, asked: &AskedTimes<'_>, generation: Generation) -> bool {
        let question = &self.question;
        question.generation == generation
            && question.range == asked.range
            && &question.account == asked.account
            && question.event_type.as_ref() == asked.event_type
    }
}

/// Answers by a hash of their question.
type Shard = HashMap<u64, Arc<Answer>>;

/// The answers kept, at most `max_answers`, by a hash of their question.
pub(super) struct AnswerStore {
    shards: Box<[Mutex<Shard>]>,
    seen: Box<[AtomicU64]>,
    hasher: RandomState,
    per_shard: usize,
}

impl AnswerStore {
    pub(super) fn new(max_answers: u64) -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            seen: (0..usize::try_from(max_answers)
                .unwrap_or(usize::MAX)
                .clamp(SEEN_SLOTS.0, SEEN_SLOTS.1))
                .map(|_| AtomicU64::new(0))
                .collect(),
            hasher: RandomState::default(),
            per_shard: usize::try_from(max_answers)
                .unwrap_or(usize::MAX)
                .div_ceil(SHARDS)
                .max(1),
        }
    }

    /// The hash a question is kept and looked up by.
    pub(super) fn key(&self, asked: &AskedTimes<'_>) -> u64 {
        self.hasher.hash_one((
            asked.account,
            asked.event_type,
            asked.range.start(),
            asked.range.end(),
        ))
    }

    fn shard(&self, key: u64) -> std::sync::MutexGuard<'_, Shard> {
        let at = usize::try_from(key % SHARDS as u64).unwrap_or(0);
        self.shards[at]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The answer kept for `asked` (whose [`Self::key`] is `key`) under `generation`, unless
    /// expired.
    pub(super) fn get(
        &self,
        key: u64,
        asked: &AskedTimes<'_>,
        generation: Generation,
    ) -> Option<AvailableTimes> {
        let shard = self.shard(key);
        let answer = shard.get(&key)?;
        (answer.answers(asked, generation) && Instant::now() < answer.expires)
            .then(|| answer.times.clone())
    }

    /// Whether the question of `key` was asked before (as far as its slot remembers);
    /// remembers it now.
    pub(super) fn asked_before(&self, key: u64) -> bool {
        let slots = u64::try_from(self.seen.len()).unwrap_or(1);
        let slot = &self.seen[usize::try_from(key % slots).unwrap_or(0)];
        slot.swap(key, Ordering::Relaxed) == key
    }

    /// Keeps `answer` by its question's `key`.
    pub(super) fn insert(&self, key: u64, answer: Answer) {
        let mut shard = self.shard(key);
        if shard.len() >= self.per_shard && !shard.contains_key(&key) {
            let now = Instant::now();
            shard.retain(|_, kept| kept.expires > now);
            if shard.len() >= self.per_shard {
                shard.clear();
            }
        }
        shard.insert(key, Arc::new(answer));
    }

    /// Answers kept now.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|shard| shard.lock().unwrap_or_else(PoisonError::into_inner).len())
            .sum()
    }
}
