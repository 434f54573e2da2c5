//! [`KeptAnswers`] on the store: whole answers recalled, and kept when what they were made
//! from was already kept (see [`super::answers`]).

use domain::{
    AskedTimes, AvailableTimes, EventTypeUri, KeepAnswer, KeptAnswers, Recall, TimeRange,
};
use tokio::time::Instant;

use super::answers::{Answer, Question};
use super::numbering::kept_so_far;
use super::provider::{CacheKind, ProviderCache};
use super::store::{SubjectKey, WindowStore};
use super::windows::{Touched, touched};

impl KeptAnswers for ProviderCache {
    fn recall(&self, asked: &AskedTimes<'_>) -> Recall {
        let Some(answers) = &self.stores.answers else {
            return Recall::Nothing;
        };
        if !self.stores.generations.is_hearing() {
            return Recall::Nothing;
        }
        let generation = self.generations(asked.account);
        let key = answers.key(asked);
        if let Some(times) = answers.get(key, asked, generation) {
            self.observe(CacheKind::EventTypes, true);
            self.observe(CacheKind::AvailableTimes, true);
            return Recall::Kept(times);
        }
        if !answers.asked_before(key) {
            return Recall::Nothing;
        }
        let (cache, begun) = (self.clone(), kept_so_far());
        let question = Question {
            account: asked.account.clone(),
            event_type: asked.event_type.cloned(),
            range: asked.range,
            generation,
        };
        Recall::Keep(KeepAnswer::new(move |chosen, fetched, times| {
            let (chosen, times) = (chosen.clone(), times.clone());
            Box::pin(async move {
                cache
                    .keep_answer((key, question), times, (&chosen, fetched), begun)
                    .await;
            })
        }))
    }
}

impl ProviderCache {
    /// Keeps `times`, the answer to `question` (of hash `key`) made from the event types and
    /// the windows of `chosen` over `fetched`, if all of them were kept before `begun` and are
    /// still, under the question's generations: until the first of them expires.
    async fn keep_answer(
        &self,
        (key, question): (u64, Question),
        times: AvailableTimes,
        (chosen, fetched): (&EventTypeUri, TimeRange),
        begun: u64,
    ) {
        let stores = &self.stores;
        let (Some(answers), Some(event_types), Some(available)) =
            (&stores.answers, &stores.event_types, &stores.available)
        else {
            return;
        };
        if self.generations(&question.account) != question.generation {
            return;
        }
        let Some(types) = event_types
            .get(&(question.account.clone(), question.generation.event_types))
            .await
        else {
            return;
        };
        let subject = SubjectKey {
            account: question.account.clone(),
            generation: question.generation.times,
            event_type: Some(chosen.clone()),
        };
        let parts = touched(fetched, stores.settings.available_window);
        let Some(windows_expire) = available.kept_until(&subject, &parts, begun) else {
            return;
        };
        if types.number > begun {
            return;
        }
        let expires = windows_expire.min(types.kept_at + types.lives);
        if expires > Instant::now() {
            answers.insert(
                key,
                Answer {
                    question,
                    expires,
                    times,
                },
            );
        }
    }
}

impl<T: Send + Sync + 'static> WindowStore<T> {
    /// When the first of `subject`'s windows `parts` expires, if each is kept and was
    /// numbered `before` at most (see [`super::shard::Shard::kept_until`]).
    pub(super) fn kept_until(
        &self,
        subject: &SubjectKey,
        parts: &[Touched],
        before: u64,
    ) -> Option<Instant> {
        let parts = parts
            .iter()
            .map(|part| (part.window.start().timestamp(), part.needed));
        self.shard(subject)
            .kept_until(subject, parts, self.ttl, before)
    }
}
