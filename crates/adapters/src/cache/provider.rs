//! The store every HTTP worker shares: event types, available and busy times by account, their
//! generations, and the tier under it that every instance shares.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use domain::{AccountCache, BusyTime, CalendlyUserUri, Clock, EventTypeUri};
use moka::Expiry;
use moka::future::Cache;

use super::answers::AnswerStore;
use super::compact::CompactTimes;
use super::front::TypesFront;
use super::generations::{Generation, Generations};
use super::kept_types::KeptTypes;
use super::merge::{merged_busy, merged_times};
use super::packed::Dictionary;
use super::ready::ReadyBudget;
use super::shared::SharedAnswers;
use super::store::{SubjectKey, WindowStore};

use crate::hashing::RandomState;
use crate::shared_tier::SharedTier;

/// What a cache answer is about, for metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CacheKind {
    EventTypes,
    AvailableTimes,
    BusyTimes,
    /// Stored connections (kept while the database's notices are listened to).
    Connections,
}

impl CacheKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::EventTypes => "event_types",
            Self::AvailableTimes => "available_times",
            Self::BusyTimes => "busy_times",
            Self::Connections => "connections",
        }
    }
}

/// Is told of every lookup: what it was about, and whether it was answered from memory.
pub trait CacheObserver: Send + Sync + fmt::Debug {
    fn looked_up(&self, kind: CacheKind, hit: bool);

    /// A miss in process looked into the shared tier: `true` when it found the answer there.
    fn looked_up_shared(&self, _kind: CacheKind, _hit: bool) {}
}

/// How much is remembered, and for how long.
#[derive(Debug, Clone)]
pub struct CacheSettings {
    /// How long an account's event types are reused; zero remembers none.
    pub event_types_ttl: Duration,
    /// Most accounts whose event types are kept.
    pub event_types_max_accounts: u64,
    /// Most bytes of event types kept.
    pub event_types_max_bytes: u64,
    /// How long available and busy times are reused; zero remembers none.
    pub availability_ttl: Duration,
    /// Most windows of available or busy times kept.
    pub availability_max_windows: u64,
    /// Most bytes of available and busy times kept.
    pub availability_max_bytes: u64,
    /// Most bytes of answers kept written out in full, ready to serve, beside their compact
    /// form (see [`super::compact`]); zero keeps none.
    pub ready_max_bytes: u64,
    /// The window of available times asked at once (at most what the provider answers in one
    /// call).
    pub available_window: TimeDelta,
    /// The window of busy times asked at once (likewise).
    pub busy_window: TimeDelta,
    /// The longest range of available times the provider answers in one call: missing windows
    /// next to each other are asked for together, up to this.
    pub available_span: TimeDelta,
    /// The same for busy times.
    pub busy_span: TimeDelta,
    /// How far ahead of now the earliest start asked of the provider lies (as the use cases').
    pub start_lead: TimeDelta,
    /// The longest a call to the provider may take, retries included: how long, beyond the
    /// TTLs, a forgotten account's new generation is kept.
    pub longest_load: Duration,
}

/// The weight, in bytes, of an entry of `bytes` (an account's event types), such that
/// `max_bytes` bounds both the bytes and, at `max_bytes / max_entries` at least each, the
/// number of entries.
fn weight(bytes: usize, (max_bytes, max_entries): (u64, u64)) -> u32 {
    let floor = max_bytes / max_entries.max(1);
    u32::try_from(u64::try_from(bytes).unwrap_or(u64::MAX).max(floor)).unwrap_or(u32::MAX)
}

/// Each entry lives as long as it says.
struct Lives;

impl Expiry<(CalendlyUserUri, u64), Arc<KeptTypes>> for Lives {
    fn expire_after_create(
        &self,
        _: &(CalendlyUserUri, u64),
        kept: &Arc<KeptTypes>,
        _: std::time::Instant,
    ) -> Option<Duration> {
        Some(kept.lives)
    }
}

/// Event types by account and generation.
type EventTypesStore = Cache<(CalendlyUserUri, u64), Arc<KeptTypes>, RandomState>;

pub(super) struct Stores {
    pub(super) event_types: Option<EventTypesStore>,
    /// What `event_types` holds, found without its bookkeeping (see [`super::front`]).
    pub(super) types_front: Arc<TypesFront>,
    /// What every account's event types are compressed against.
    pub(super) dictionary: Dictionary,
    pub(super) available: Option<WindowStore<CompactTimes>>,
    pub(super) busy: Option<WindowStore<Arc<[BusyTime]>>>,
    /// Whole answers to availability questions (when both event types and available times
    /// are kept).
    pub(super) answers: Option<AnswerStore>,
    /// What may be kept ready to serve.
    pub(super) ready: Arc<ReadyBudget>,
    pub(super) generations: Generations,
    /// The tier under this one that every instance shares, if any.
    pub(super) shared: Option<SharedAnswers>,
    pub(super) settings: CacheSettings,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) observer: Option<Arc<dyn CacheObserver>>,
}

/// The store. Clones share one store.
#[derive(Clone)]
pub struct ProviderCache {
    pub(super) stores: Arc<Stores>,
}

impl fmt::Debug for ProviderCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = |cache: Option<u64>| cache.unwrap_or(0);
        f.debug_struct("ProviderCache")
            .field(
                "event_types",
                &count(self.stores.event_types.as_ref().map(Cache::entry_count)),
            )
            .field("event_types_front", &self.stores.types_front.len())
            .field(
                "available_subjects",
                &count(
                    self.stores
                        .available
                        .as_ref()
                        .map(WindowStore::subject_count),
                ),
            )
            .field(
                "busy_subjects",
                &count(self.stores.busy.as_ref().map(WindowStore::subject_count)),
            )
            .finish()
    }
}

impl ProviderCache {
    pub fn new(
        settings: CacheSettings,
        clock: Arc<dyn Clock>,
        observer: Option<Arc<dyn CacheObserver>>,
        shared: Option<SharedTier>,
    ) -> Self {
        let (type_bytes, type_entries) = (
            settings.event_types_max_bytes,
            settings.event_types_max_accounts,
        );
        // The store takes in more than it keeps until it next sweeps: room for twice as many.
        let types_front = Arc::new(TypesFront::new(
            usize::try_from(type_entries.saturating_mul(2)).unwrap_or(usize::MAX),
        ));
        let front = Arc::clone(&types_front);
        let event_types = (!settings.event_types_ttl.is_zero()).then(|| {
            Cache::builder()
                .expire_after(Lives)
                .eviction_listener(
                    move |key: Arc<(CalendlyUserUri, u64)>, kept: Arc<KeptTypes>, _| {
                        front.dropped(&key.0, key.1, &kept);
                    },
                )
                .max_capacity(type_bytes)
                .weigher(
                    move |key: &(CalendlyUserUri, u64), types: &Arc<KeptTypes>| {
                        weight(
                            key.0.as_str().len() + types.packed.size(),
                            (type_bytes, type_entries),
                        )
                    },
                )
                .build_with_hasher(RandomState::default())
        });
        let ttl = settings.availability_ttl;
        let (max_bytes, max_windows) = (
            settings.availability_max_bytes,
            settings.availability_max_windows,
        );
        let bounds = (max_bytes, max_windows);
        let available = (!ttl.is_zero()).then(|| {
            WindowStore::new(
                ttl,
                bounds,
                (CompactTimes::size, CompactTimes::sharing, merged_times),
            )
        });
        let busy = (!ttl.is_zero()).then(|| {
            WindowStore::new(
                ttl,
                bounds,
                (
                    |times: &Arc<[BusyTime]>| {
                        times.iter().map(|t| t.json.as_bytes().len() + 64).sum()
                    },
                    |_, _| None,
                    merged_busy,
                ),
            )
        });
        let answers =
            (event_types.is_some() && available.is_some()).then(|| AnswerStore::new(max_windows));
        let horizon =
            settings.event_types_ttl.max(settings.availability_ttl) + settings.longest_load;
        Self {
            stores: Arc::new(Stores {
                event_types,
                types_front,
                dictionary: Dictionary::default(),
                available,
                busy,
                answers,
                ready: ReadyBudget::new(
                    usize::try_from(settings.ready_max_bytes).unwrap_or(usize::MAX),
                ),
                generations: Generations::new(horizon),
                shared: shared
                    .map(|tier| SharedAnswers::new(tier, horizon, settings.longest_load / 2)),
                settings,
                clock,
                observer,
            }),
        }
    }

    pub(super) fn generations(&self, account: &CalendlyUserUri) -> Generation {
        self.stores.generations.of(account)
    }

    /// The key of `account`'s windows of `event_type` (of its busy times: `None`), at the
    /// account's generation of times.
    pub(super) fn subject(
        &self,
        account: &CalendlyUserUri,
        event_type: Option<&EventTypeUri>,
    ) -> SubjectKey {
        SubjectKey {
            account: account.clone(),
            generation: self.generations(account).times,
            event_type: event_type.cloned(),
        }
    }

    /// The earliest start the provider may be asked about now.
    pub(super) fn earliest(&self) -> DateTime<Utc> {
        self.stores.clock.now() + self.stores.settings.start_lead
    }

    pub(super) fn observe(&self, kind: CacheKind, hit: bool) {
        if let Some(observer) = &self.stores.observer {
            observer.looked_up(kind, hit);
        }
    }

    pub(super) fn observe_shared(&self, kind: CacheKind, hit: bool) {
        if let Some(observer) = &self.stores.observer {
            observer.looked_up_shared(kind, hit);
        }
    }
}

#[async_trait]
impl AccountCache for ProviderCache {
    async fn forget(&self, account: &CalendlyUserUri) {
        let now = self.stores.clock.now();
        self.stores.generations.advance(account, true, now);
    }

    async fn forget_times(&self, account: &CalendlyUserUri) {
        let now = self.stores.clock.now();
        self.stores.generations.advance(account, false, now);
    }

    async fn forget_since(&self, account: &CalendlyUserUri, all: bool, at: DateTime<Utc>) {
        self.stores.generations.advance(account, all, at);
    }

    async fn hearing(&self, hearing: bool) {
        self.stores.generations.hearing(hearing);
    }
}
