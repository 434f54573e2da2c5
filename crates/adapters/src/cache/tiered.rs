//! The two tiers together: a miss in process asks the shared tier ([`super::shared`]), and
//! only then the provider, whose answer is put there for the other instances.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use domain::{AvailableTime, BusyTime, CalendlyUserUri, EventType, ProviderError, RawJson};

use super::provider::{CacheKind, ProviderCache};
use super::shared::{Answers, Found};
use crate::calendly::wire;

/// How often an instance looks again while another loads what it needs.
const WAIT_STEP: Duration = Duration::from_millis(20);
/// The longest wait for another instance's load: an instance that died mid-load leaves its
/// hold until it expires, and a question should not wait for that.
const LONGEST_WAIT: Duration = Duration::from_secs(2);

/// Answers the tier can hold: read back from what the tier keeps (a Calendly-shaped
/// collection), and the items it is written from.
pub(super) trait Shareable: Sized {
    fn read(body: &Bytes) -> Option<Self>;
    fn items(&self) -> impl Iterator<Item = &RawJson>;
}

impl Shareable for Arc<[EventType]> {
    fn read(body: &Bytes) -> Option<Self> {
        Some(wire::event_types_page(body).ok()?.event_types.into())
    }

    fn items(&self) -> impl Iterator<Item = &RawJson> {
        self.iter().map(|event_type| &event_type.json)
    }
}

impl Shareable for Vec<AvailableTime> {
    fn read(body: &Bytes) -> Option<Self> {
        wire::available_times(body).ok()
    }

    fn items(&self) -> impl Iterator<Item = &RawJson> {
        self.iter().map(|time| &time.json)
    }
}

impl Shareable for Vec<BusyTime> {
    fn read(body: &Bytes) -> Option<Self> {
        wire::busy_times(body).ok()
    }

    fn items(&self) -> impl Iterator<Item = &RawJson> {
        self.iter().map(|time| &time.json)
    }
}

impl ProviderCache {
    /// The answer to a miss in process: the shared tier's when it holds a fresh one that
    /// holds from `from`, or else `load`'s, which is then shared. While another instance
    /// loads it, this one waits for that answer (looking again every 20 ms, for as long as
    /// that load is held, two seconds at most): instances missing one answer at once make one
    /// call. A load this instance holds is let go of if this future is dropped before it ends.
    pub(super) async fn shared_or<T: Shareable>(
        &self,
        (kind, account, answers): (CacheKind, &CalendlyUserUri, Answers<'_>),
        (from, ttl): (DateTime<Utc>, Duration),
        load: impl Future<Output = Result<T, ProviderError>>,
    ) -> Result<Found<T>, ProviderError> {
        let fresh = |data| Found {
            data,
            from,
            age: Duration::ZERO,
        };
        let Some(shared) = &self.stores.shared else {
            return Ok(fresh(load.await?));
        };
        let clock = self.stores.clock.as_ref();
        let waited_from = tokio::time::Instant::now();
        let looked = loop {
            let looked = shared.look(account, answers, ttl, clock, T::read).await;
            if !looked.loaded_elsewhere || waited_from.elapsed() >= shared.hold.min(LONGEST_WAIT) {
                break looked;
            }
            tokio::time::sleep(WAIT_STEP).await;
        };
        let found = looked.found.filter(|found| found.from <= from);
        self.observe_shared(kind, found.is_some());
        if let Some(found) = found {
            return Ok(found);
        }
        // Put only by the instance that holds the load (or by one that could not wait longer).
        let generation = looked.generation.filter(|_| !looked.loaded_elsewhere);
        // Let go of, should this future be dropped before the load ends.
        let hold = generation
            .as_ref()
            .map(|generation| shared.hold_of(account, answers, generation));
        let data = match load.await {
            Ok(data) => data,
            Err(error) => {
                if let Some(generation) = &generation {
                    shared.release(account, answers, generation).await;
                }
                if let Some(hold) = hold {
                    hold.ended();
                }
                return Err(error);
            }
        };
        if let Some(generation) = &generation {
            shared
                .put(
                    account,
                    answers,
                    generation,
                    (from, ttl),
                    clock,
                    data.items(),
                )
                .await;
        }
        if let Some(hold) = hold {
            hold.ended();
        }
        Ok(fresh(data))
    }
}
