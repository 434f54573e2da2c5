//! An account's event types as the store keeps them: packed, with how long they live, and
//! unpacked once read while the ready budget has room.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use domain::EventType;

use super::packed::PackedEventTypes;
use super::ready::{ReadyBudget, Reservation};

/// An account's event types, and how long they are kept from when they were stored (less
/// than the TTL when they came from the shared tier already aged).
#[derive(Debug)]
pub(super) struct KeptTypes {
    pub(super) packed: PackedEventTypes,
    pub(super) lives: Duration,
    /// When they were kept here.
    pub(super) kept_at: tokio::time::Instant,
    /// Their number among everything kept (see [`super::numbering::numbered`]).
    pub(super) number: u64,
    /// Unpacked, once read while the budget had room.
    pub(super) ready: OnceLock<(Arc<[EventType]>, Reservation)>,
}

impl KeptTypes {
    pub(super) fn new(packed: PackedEventTypes, lives: Duration) -> Self {
        Self {
            packed,
            lives,
            kept_at: tokio::time::Instant::now(),
            number: super::numbering::numbered(),
            ready: OnceLock::new(),
        }
    }

    /// Whether they are still to be served: the store's entry lives as long from a moment
    /// later, when it was put there.
    pub(super) fn alive(&self) -> bool {
        self.kept_at.elapsed() < self.lives
    }

    /// The event types: those kept ready, or else unpacked (and kept ready if `budget` has
    /// room); `None` if they do not unpack.
    pub(super) fn types(&self, budget: &Arc<ReadyBudget>) -> Option<Arc<[EventType]>> {
        if let Some((types, _)) = self.ready.get() {
            return Some(Arc::clone(types));
        }
        let types = self.packed.unpack()?;
        let bytes = types
            .iter()
            .map(|t| size_of::<EventType>() + t.uri.as_str().len() + t.json.as_bytes().len() + 32)
            .sum::<usize>()
            + 64;
        if let Some(held) = budget.reserve(bytes) {
            // Unpacked by another reader meanwhile: its copy is kept, these bytes given back.
            let _ = self.ready.set((Arc::clone(&types), held));
        }
        Some(types)
    }
}
