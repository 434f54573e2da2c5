//! The two tiers together: a miss in process asks the shared tier ([`super::shared`]), and
//! only then the provider, whose answer is put there for the other instances.

use std::future::Future;

use std::time::Duration;

use chrono::{DateTime, Utc};
use domain::{AvailableTime, BusyTime, CalendlyUserUri, ProviderError, TimeRange};

use super::encoding::Shareable;
use super::hold::Hold;
use super::provider::{CacheKind, ProviderCache};
use super::shared::{ALIVE_EVERY, Answers, Found, Looked, SharedAnswers};

/// How often an instance looks again while another loads what it needs.
const WAIT_STEP: Duration = Duration::from_millis(20);
/// The longest wait for another instance's load: an instance that died mid-load leaves its
/// hold until it expires, and a question should not wait for that.
const LONGEST_WAIT: Duration = Duration::from_secs(2);

/// Answers about times, which a load of several windows cuts into one answer each.
pub(super) trait Timed: Shareable {
    /// What of `self` falls within `range`.
    fn cut(&self, range: TimeRange) -> Self;
}

impl Timed for Vec<AvailableTime> {
    fn cut(&self, range: TimeRange) -> Self {
        self.iter()
            .filter(|time| time.start_time >= range.start() && time.start_time < range.end())
            .cloned()
            .collect()
    }
}

impl Timed for Vec<BusyTime> {
    fn cut(&self, range: TimeRange) -> Self {
        self.iter()
            .filter(|time| time.end_time > range.start() && time.start_time < range.end())
            .cloned()
            .collect()
    }
}

/// One window's answer of a load: its times, the part of the window they hold for, how old.
#[derive(Debug)]
pub(super) struct Part<T> {
    pub data: T,
    pub held: TimeRange,
    pub age: Duration,
}

impl ProviderCache {
    /// `answers` of `account` as the shared tier holds them, waiting while another instance
    /// loads them (looking again every 20 ms, for as long as that load is held, two seconds at
    /// most).
    async fn look_waiting<T: Shareable>(
        &self,
        shared: &SharedAnswers,
        (account, answers): (&CalendlyUserUri, Answers<'_>),
        ttl: Duration,
    ) -> Looked<T> {
        let clock = self.stores.clock.as_ref();
        let waited_from = tokio::time::Instant::now();
        let mut looked = loop {
            let looked = shared.look(account, answers, ttl, clock, T::read).await;
            if !looked.loaded_elsewhere || waited_from.elapsed() >= shared.hold.min(LONGEST_WAIT) {
                break looked;
            }
            tokio::time::sleep(WAIT_STEP).await;
        };
        // Asked of the provider before the account was last forgotten (here or, by its notice,
        // elsewhere): stale, whatever Redis missed.
        if let (Some(found), Some(since)) = (
            &looked.found,
            self.stores
                .generations
                .forgotten_since(account, matches!(answers, Answers::EventTypes)),
        ) {
            let asked_at = chrono::TimeDelta::from_std(found.age)
                .ok()
                .and_then(|age| clock.now().checked_sub_signed(age));
            if asked_at.is_none_or(|asked_at| asked_at < since) {
                looked.found = None;
            }
        }
        looked
    }

    /// The answer to a miss in process: the shared tier's when it holds a fresh one that
    /// holds from `from`, or else `load`'s, which is then shared. While another instance
    /// loads it, this one waits for that answer (see [`Self::look_waiting`]): instances missing
    /// one answer at once make one call. A load this instance holds is let go of if this
    /// future is dropped before it ends.
    pub(super) async fn shared_or<T: Shareable>(
        &self,
        (kind, account, answers): (CacheKind, &CalendlyUserUri, Answers<'_>),
        (from, ttl): (DateTime<Utc>, Duration),
        load: impl Future<Output = Result<T, ProviderError>>,
    ) -> Result<Found<T>, ProviderError> {
        let fresh = |data| Found {
            data,
            from,
            until: from,
            age: Duration::ZERO,
        };
        let Some(shared) = &self.stores.shared else {
            return Ok(fresh(load.await?));
        };
        let mut looked = self.look_waiting(shared, (account, answers), ttl).await;
        let found = looked.found.take().filter(|found| found.from <= from);
        self.observe_shared(kind, found.is_some());
        if let Some(found) = found {
            return Ok(found);
        }
        let asked_at = self.stores.clock.now();
        let data = self
            .held_load(shared, (account, answers), looked.holder(), load)
            .await?;
        if let Some(generation) = looked.holder() {
            let held = (from, from);
            shared
                .put(account, answers, generation, (held, ttl), asked_at, &data)
                .await;
        }
        Ok(fresh(data))
    }

    /// `load`, under this instance's hold at `generation` (when it took one): let go of if
    /// the load fails or is dropped half-way.
    async fn held_load<T>(
        &self,
        shared: &SharedAnswers,
        (account, answers): (&CalendlyUserUri, Answers<'_>),
        generation: Option<&str>,
        load: impl Future<Output = Result<T, ProviderError>>,
    ) -> Result<T, ProviderError> {
        let hold = generation.map(|generation| shared.hold_of(account, answers, generation));
        let loaded = match hold {
            Some(_) => alive_while(shared, load).await,
            None => load.await,
        };
        if loaded.is_err()
            && let Some(generation) = generation
        {
            shared.release(account, answers, generation).await;
        }
        if let Some(hold) = hold {
            hold.ended();
        }
        loaded
    }

    /// The windows `pieces` (each a window's start and the part of it needed, in order, each
    /// touching the next) of `account`, as `answers_of` names them: each from the shared tier
    /// when it holds it, and those it does not by `load` (with the range to fetch), one call
    /// for each run of them next to each other, one call at a time; what `load` answers is
    /// shared window by window.
    pub(super) async fn shared_windows<'a, T, Fut>(
        &self,
        (kind, account, answers_of): (CacheKind, &CalendlyUserUri, impl Fn(i64) -> Answers<'a>),
        pieces: &[(i64, TimeRange)],
        ttl: Duration,
        load: impl Fn(TimeRange) -> Fut,
    ) -> Result<Vec<Part<T>>, ProviderError>
    where
        T: Timed,
        Fut: Future<Output = Result<T, ProviderError>>,
    {
        let fresh = |data, held| Part {
            data,
            held,
            age: Duration::ZERO,
        };
        let Some(shared) = &self.stores.shared else {
            let Some(fetch) = span_of(pieces) else {
                return Ok(Vec::new());
            };
            let all = load(fetch).await?;
            return Ok(pieces
                .iter()
                .map(|(_, piece)| fresh(all.cut(*piece), *piece))
                .collect());
        };
        let looks = futures::future::join_all(pieces.iter().map(|(window_start, _)| {
            self.look_waiting::<T>(shared, (account, answers_of(*window_start)), ttl)
        }))
        .await;
        let mut parts: Vec<Option<Part<T>>> = Vec::with_capacity(pieces.len());
        let mut holders: Vec<Option<String>> = Vec::with_capacity(pieces.len());
        for ((_, piece), looked) in pieces.iter().zip(looks) {
            let holder = looked.holder().map(str::to_owned);
            let found = looked.found.and_then(|found| {
                let held = TimeRange::new(found.from, found.until)?;
                (held.start() <= piece.start() && held.end() >= piece.end()).then_some(Part {
                    data: found.data,
                    held,
                    age: found.age,
                })
            });
            self.observe_shared(kind, found.is_some());
            parts.push(found);
            holders.push(holder);
        }
        let clock = self.stores.clock.as_ref();
        let mut at = 0;
        while at < pieces.len() {
            if parts[at].is_some() {
                at += 1;
                continue;
            }
            let end = (at..pieces.len())
                .find(|&next| parts[next].is_some())
                .unwrap_or(pieces.len());
            let run = &pieces[at..end];
            let fetch = span_of(run).unwrap_or(run[0].1);
            // Each window this instance holds is let go of should this future be dropped.
            let holds: Vec<Hold> = run
                .iter()
                .zip(&holders[at..end])
                .filter_map(|((window_start, _), holder)| {
                    let generation = holder.as_deref()?;
                    Some(shared.hold_of(account, answers_of(*window_start), generation))
                })
                .collect();
            let asked_at = clock.now();
            let loaded = if holds.is_empty() {
                load(fetch).await
            } else {
                alive_while(shared, load(fetch)).await
            };
            let all = match loaded {
                Ok(all) => all,
                Err(error) => {
                    for ((window_start, _), holder) in run.iter().zip(&holders[at..end]) {
                        if let Some(generation) = holder {
                            shared
                                .release(account, answers_of(*window_start), generation)
                                .await;
                        }
                    }
                    holds.into_iter().for_each(Hold::ended);
                    return Err(error);
                }
            };
            for (offset, (window_start, piece)) in run.iter().enumerate() {
                let data = all.cut(*piece);
                if let Some(generation) = &holders[at + offset] {
                    let held = (piece.start(), piece.end());
                    let answers = answers_of(*window_start);
                    shared
                        .put(account, answers, generation, (held, ttl), asked_at, &data)
                        .await;
                }
                parts[at + offset] = Some(fresh(data, *piece));
            }
            holds.into_iter().for_each(Hold::ended);
            at = end;
        }
        Ok(parts.into_iter().flatten().collect())
    }
}

/// `load`, saying every [`ALIVE_EVERY`] that this instance (which holds it) is alive, so that
/// the others wait for it while it runs and not after it died.
async fn alive_while<T>(shared: &SharedAnswers, load: impl Future<Output = T>) -> T {
    let mut load = std::pin::pin!(load);
    loop {
        tokio::select! {
            loaded = &mut load => return loaded,
            () = tokio::time::sleep(ALIVE_EVERY) => shared.alive().await,
        }
    }
}

/// From the first piece's start to the last's end.
fn span_of(pieces: &[(i64, TimeRange)]) -> Option<TimeRange> {
    TimeRange::new(pieces.first()?.1.start(), pieces.last()?.1.end())
}
