//! The decorator: [`SchedulingProvider`] answering from a [`ProviderCache`].

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use domain::{
    AvailableTimes, BusyTime, CalendlyToken, CalendlyUser, CalendlyUserUri, EventType,
    EventTypeUri, ProviderError, RawJson, SchedulingProvider, TimeRange, TimesAsked,
};
use futures::TryFutureExt;

use super::compact::CompactTimes;
use super::kept_types::KeptTypes;
use super::packed::PackedEventTypes;
use super::provider::{CacheKind, ProviderCache};
use super::shared::Answers;
use super::store::{Fetches, Loaded};
use super::windows::touched;

impl ProviderCache {
    /// `provider`, answering from this store where it can.
    pub fn wrap<P: SchedulingProvider>(&self, provider: P) -> CachedScheduling<P> {
        CachedScheduling {
            inner: provider,
            cache: self.clone(),
        }
    }
}

/// [`SchedulingProvider`] answering from a [`ProviderCache`]: event types by account,
/// available and busy times by account, event type and window. A miss asks `P`, concurrent
/// misses for one key share that one call, and a failure is passed to each of them and not
/// remembered. Whatever comes from memory is cut to the range asked: never a time before it,
/// and so never one already past. Everything else goes to `P` as asked.
pub struct CachedScheduling<P> {
    pub(super) inner: P,
    pub(super) cache: ProviderCache,
}

impl<P: fmt::Debug> fmt::Debug for CachedScheduling<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachedScheduling")
            .field("inner", &self.inner)
            .field("cache", &self.cache)
            .finish()
    }
}

#[async_trait]
impl<P: SchedulingProvider> SchedulingProvider for CachedScheduling<P> {
    async fn current_user(&self, token: &CalendlyToken) -> Result<CalendlyUser, ProviderError> {
        self.inner.current_user(token).await
    }

    async fn event_types(
        &self,
        token: &CalendlyToken,
        account: &CalendlyUserUri,
    ) -> Result<Arc<[EventType]>, ProviderError> {
        let Some(cache) = &self.cache.stores.event_types else {
            return self.inner.event_types(token, account).await;
        };
        let generation = self.cache.generations(account).event_types;
        let ready = &self.cache.stores.ready;
        let front = &self.cache.stores.types_front;
        if let Some(found) = front.get(account, generation, ready) {
            if found.touch {
                // For the store's policy: the account is asked about.
                let _ = cache.get(&(account.clone(), generation)).await;
            }
            self.cache.observe(CacheKind::EventTypes, true);
            return Ok(found.types);
        }
        let key = (account.clone(), generation);
        if let Some(kept) = cache.get(&key).await
            && let Some(types) = kept.types(ready)
        {
            front.put(account, generation, &kept);
            self.cache.observe(CacheKind::EventTypes, true);
            return Ok(types);
        }
        self.cache.observe(CacheKind::EventTypes, false);
        // The provider's (boxed) future is made only on a miss, when the block is first polled.
        let load = async {
            let ttl = self.cache.stores.settings.event_types_ttl;
            let found = self
                .cache
                .shared_or(
                    (CacheKind::EventTypes, account, Answers::EventTypes),
                    (self.cache.stores.clock.now(), ttl),
                    self.inner.event_types(token, account),
                )
                .await?;
            PackedEventTypes::pack(&found.data, &self.cache.stores.dictionary)
                .map(|packed| Arc::new(KeptTypes::new(packed, ttl.saturating_sub(found.age))))
                .ok_or_else(|| ProviderError::Unavailable {
                    reason: "Calendly's event types are too large to keep".into(),
                })
        };
        let kept = cache
            .try_get_with(key, load)
            .await
            .map_err(Arc::unwrap_or_clone)?;
        front.put(account, generation, &kept);
        kept.types(ready).ok_or_else(|| ProviderError::Unavailable {
            reason: "kept event types did not unpack".into(),
        })
    }

    async fn available_times(
        &self,
        token: &CalendlyToken,
        account: &CalendlyUserUri,
        event_type: &EventTypeUri,
        range: TimeRange,
    ) -> Result<AvailableTimes, ProviderError> {
        let Some(store) = &self.cache.stores.available else {
            return self
                .inner
                .available_times(token, account, event_type, range)
                .await;
        };
        let subject = self.cache.subject(account, Some(event_type));
        let settings = &self.cache.stores.settings;
        let windows = store
            .windows(
                &subject,
                touched(range, settings.available_window),
                (self.cache.earliest(), settings.available_span),
                |pieces| async move {
                    let parts = self
                        .cache
                        .shared_windows(
                            (CacheKind::AvailableTimes, account, |window_start| {
                                Answers::Available {
                                    event_type,
                                    window_start,
                                }
                            }),
                            &pieces,
                            settings.availability_ttl,
                            |fetch| {
                                self.inner
                                    .available_times(token, account, event_type, fetch)
                                    .map_ok(|times| times.to_vec())
                            },
                        )
                        .await?;
                    Ok(parts
                        .into_iter()
                        .map(|part| Loaded {
                            data: CompactTimes::new(part.data, part.held),
                            from: part.held.start(),
                            until: part.held.end(),
                            age: part.age,
                        })
                        .collect())
                },
                |hit| self.cache.observe(CacheKind::AvailableTimes, hit),
            )
            .await?;
        let ready = &self.cache.stores.ready;
        Ok(AvailableTimes::merged(
            windows
                .iter()
                .map(|(kept, needed)| kept.data.within(*needed, ready)),
        ))
    }

    async fn busy_times(
        &self,
        token: &CalendlyToken,
        user: &CalendlyUserUri,
        range: TimeRange,
    ) -> Result<Vec<BusyTime>, ProviderError> {
        let Some(store) = &self.cache.stores.busy else {
            return self.inner.busy_times(token, user, range).await;
        };
        let subject = self.cache.subject(user, None);
        let settings = &self.cache.stores.settings;
        let windows = store
            .windows(
                &subject,
                touched(range, settings.busy_window),
                (self.cache.earliest(), settings.busy_span),
                |pieces| async move {
                    let parts = self
                        .cache
                        .shared_windows(
                            (CacheKind::BusyTimes, user, |window_start| Answers::Busy {
                                window_start,
                            }),
                            &pieces,
                            settings.availability_ttl,
                            |fetch| self.inner.busy_times(token, user, fetch),
                        )
                        .await?;
                    Ok(parts
                        .into_iter()
                        .map(|part| Loaded {
                            // Copied out of the answer's buffer, which would otherwise stay
                            // alive.
                            data: part
                                .data
                                .into_iter()
                                .map(|time| BusyTime {
                                    json: RawJson::parsed(bytes::Bytes::copy_from_slice(
                                        time.json.as_bytes(),
                                    )),
                                    ..time
                                })
                                .collect::<Arc<[BusyTime]>>(),
                            from: part.held.start(),
                            until: part.held.end(),
                            age: part.age,
                        })
                        .collect())
                },
                |hit| self.cache.observe(CacheKind::BusyTimes, hit),
            )
            .await?;
        Ok(windows
            .iter()
            .flat_map(|(kept, needed)| {
                kept.data
                    .iter()
                    .filter(|time| time.end_time > needed.start() && time.start_time < needed.end())
                    .cloned()
            })
            .collect())
    }

    async fn availability_schedules(
        &self,
        token: &CalendlyToken,
        user: &CalendlyUserUri,
    ) -> Result<Vec<RawJson>, ProviderError> {
        self.inner.availability_schedules(token, user).await
    }

    /// Priced by what would be fetched now: the runs of windows not kept in process, each
    /// one call (what the shared tier may hold is counted as a call).
    async fn afford(
        &self,
        account: &CalendlyUserUri,
        asked: &[TimesAsked],
    ) -> Result<(), ProviderError> {
        let settings = &self.cache.stores.settings;
        let mut calls = Vec::with_capacity(asked.len());
        for question in asked {
            let event_type = question.event_type.as_ref();
            let (store, window, span) = match event_type {
                Some(_) => (
                    self.cache
                        .stores
                        .available
                        .as_ref()
                        .map(|s| s as &dyn Fetches),
                    settings.available_window,
                    settings.available_span,
                ),
                None => (
                    self.cache.stores.busy.as_ref().map(|s| s as &dyn Fetches),
                    settings.busy_window,
                    settings.busy_span,
                ),
            };
            let Some(store) = store else {
                calls.push(question.clone());
                continue;
            };
            let subject = self.cache.subject(account, event_type);
            let parts = touched(question.range, window);
            calls.extend(
                store
                    .fetches_for(&subject, &parts, (self.cache.earliest(), span))
                    .into_iter()
                    .map(|range| TimesAsked {
                        event_type: question.event_type.clone(),
                        range,
                    }),
            );
        }
        if calls.is_empty() {
            return Ok(());
        }
        self.inner.afford(account, &calls).await
    }
}
