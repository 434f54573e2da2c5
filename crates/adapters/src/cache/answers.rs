//! Whole answers to availability questions ([`KeptAnswers`]), so that a question asked again
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

use domain::{
    AskedTimes, AvailableTimes, CalendlyUserUri, EventTypeUri, KeepAnswer, KeptAnswers, Recall,
    TimeRange,
};
use tokio::time::Instant;

use super::generations::Generation;
use super::provider::{CacheKind, ProviderCache};
use super::windows::touched;

use crate::hashing::{HashMap, RandomState};

/// Shards of the answers, each under its own lock.
const SHARDS: usize = 16;

/// How many event type lists and windows have been kept, in every store: each is numbered as
/// it is kept, so that what was kept before a question began is told from what came after.
static KEPT: AtomicU64 = AtomicU64::new(0);

/// The number of an event type list or window being kept now.
pub(super) fn numbered() -> u64 {
    KEPT.fetch_add(1, Ordering::SeqCst) + 1
}

/// The number of the last kept so far.
fn kept_so_far() -> u64 {
    KEPT.load(Ordering::SeqCst)
}

/// One answer kept, with the question it answers.
struct Answer {
    account: CalendlyUserUri,
    event_type: Option<EventTypeUri>,
    range: TimeRange,
    generation: Generation,
    expires: Instant,
    times: AvailableTimes,
}

impl Answer {
    fn answers(&self, asked: &AskedTimes<'_>, generation: Generation) -> bool {
        self.generation == generation
            && self.range == asked.range
            && &self.account == asked.account
            && self.event_type.as_ref() == asked.event_type
    }
}

/// Answers by a hash of their question.
type Shard = HashMap<u64, Arc<Answer>>;

/// The answers kept, at most `max_answers`, by a hash of their question.
pub(super) struct AnswerStore {
    shards: Box<[Mutex<Shard>]>,
    hasher: RandomState,
    per_shard: usize,
}

impl AnswerStore {
    pub(super) fn new(max_answers: u64) -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            hasher: RandomState::default(),
            per_shard: usize::try_from(max_answers)
                .unwrap_or(usize::MAX)
                .div_ceil(SHARDS)
                .max(1),
        }
    }

    fn key(&self, asked: &AskedTimes<'_>) -> u64 {
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

    fn get(&self, asked: &AskedTimes<'_>, generation: Generation) -> Option<AvailableTimes> {
        let key = self.key(asked);
        let answer = self.shard(key).get(&key).cloned()?;
        (answer.answers(asked, generation) && Instant::now() < answer.expires)
            .then(|| answer.times.clone())
    }

    fn insert(&self, answer: Answer) {
        let asked = AskedTimes {
            account: &answer.account,
            event_type: answer.event_type.as_ref(),
            range: answer.range,
        };
        let key = self.key(&asked);
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

impl KeptAnswers for ProviderCache {
    fn recall(&self, asked: &AskedTimes<'_>) -> Recall {
        let Some(answers) = &self.stores.answers else {
            return Recall::Nothing;
        };
        if !self.stores.generations.is_hearing() {
            return Recall::Nothing;
        }
        let generation = self.generations(asked.account);
        if let Some(times) = answers.get(asked, generation) {
            self.observe(CacheKind::EventTypes, true);
            self.observe(CacheKind::AvailableTimes, true);
            return Recall::Kept(times);
        }
        let (cache, begun) = (self.clone(), kept_so_far());
        let (account, event_type, range) = (
            asked.account.clone(),
            asked.event_type.cloned(),
            asked.range,
        );
        Recall::Keep(KeepAnswer::new(move |chosen, fetched, times| {
            let answer = Answer {
                account,
                event_type,
                range,
                generation,
                expires: Instant::now(),
                times: times.clone(),
            };
            let chosen = chosen.clone();
            Box::pin(async move { cache.keep_answer(answer, (&chosen, fetched), begun).await })
        }))
    }
}

impl ProviderCache {
    /// Keeps `answer`, made from the event types and the windows of `chosen` over `fetched`,
    /// if all of them were kept before `begun` and are still, under the answer's generations:
    /// until the first of them expires.
    async fn keep_answer(
        &self,
        mut answer: Answer,
        (chosen, fetched): (&EventTypeUri, TimeRange),
        begun: u64,
    ) {
        let stores = &self.stores;
        let (Some(answers), Some(event_types), Some(available)) =
            (&stores.answers, &stores.event_types, &stores.available)
        else {
            return;
        };
        if self.generations(&answer.account) != answer.generation {
            return;
        }
        let Some(types) = event_types
            .get(&(answer.account.clone(), answer.generation.event_types))
            .await
        else {
            return;
        };
        let subject = super::store::SubjectKey {
            account: answer.account.clone(),
            generation: answer.generation.times,
            event_type: Some(chosen.clone()),
        };
        let parts = touched(fetched, stores.settings.available_window);
        let Some(windows_expire) = available.kept_until(&subject, &parts, begun) else {
            return;
        };
        if types.number > begun {
            return;
        }
        answer.expires = windows_expire.min(types.kept_at + types.lives);
        if answer.expires > Instant::now() {
            answers.insert(answer);
        }
    }
}
