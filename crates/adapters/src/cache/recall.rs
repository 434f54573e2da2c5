//! [`KeptAnswers`] on the store: whole answers recalled, and kept when what they were made
//! from was already kept (see [`super::answers`]).

use domain::{AskedTimes, EventTypeUri, KeepAnswer, KeptAnswers, Recall, TimeRange};
use tokio::time::Instant;

use super::answers::Answer;
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
        if let Some(times) = answers.get(asked, generation) {
            self.observe(CacheKind::EventTypes, true);
            self.observe(CacheKind::AvailableTimes, true);
            return Recall::Kept(times);
        }
        if !answers.asked_before(asked) {
            return Recall::Nothing;
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
        let subject = SubjectKey {
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
