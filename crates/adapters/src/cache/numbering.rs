//! Everything kept numbered in order, so that what was kept before a question began is told
//! from what came after (see [`super::answers`]).

use std::sync::atomic::{AtomicU64, Ordering};

/// How many event type lists and windows have been kept, in every store: each is numbered as
/// it is kept, so that what was kept before a question began is told from what came after.
static KEPT: AtomicU64 = AtomicU64::new(0);

/// The number of an event type list or window being kept now.
pub(super) fn numbered() -> u64 {
    KEPT.fetch_add(1, Ordering::SeqCst) + 1
}

/// The number of the last kept so far.
pub(super) fn kept_so_far() -> u64 {
    KEPT.load(Ordering::SeqCst)
}
