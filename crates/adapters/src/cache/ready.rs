//! Memory for answers kept ready to serve: what is read often is also kept written out in full
//! beside its compact form, within one budget of bytes shared by the whole store. A
//! [`Reservation`] holds its bytes until it is dropped with what it was made for.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The bytes that may be kept ready, and those kept now.
#[derive(Debug)]
pub(super) struct ReadyBudget {
    used: AtomicUsize,
    max: usize,
}

impl ReadyBudget {
    pub(super) fn new(max: usize) -> Arc<Self> {
        Arc::new(Self {
            used: AtomicUsize::new(0),
            max,
        })
    }

    /// Whether `bytes` more would fit now.
    pub(super) fn has_room(&self, bytes: usize) -> bool {
        self.used
            .load(Ordering::Relaxed)
            .checked_add(bytes)
            .is_some_and(|total| total <= self.max)
    }

    /// `bytes` of the budget, while they fit.
    pub(super) fn reserve(self: &Arc<Self>, bytes: usize) -> Option<Reservation> {
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Relaxed, |used| {
                used.checked_add(bytes).filter(|total| *total <= self.max)
            })
            .ok()
            .map(|_| Reservation {
                budget: Arc::clone(self),
                bytes,
            })
    }

    /// The bytes kept ready now.
    #[cfg(test)]
    pub(super) fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }
}

/// Bytes of a [`ReadyBudget`], given back when dropped.
pub(super) struct Reservation {
    budget: Arc<ReadyBudget>,
    bytes: usize,
}

impl fmt::Debug for Reservation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Reservation({} bytes)", self.bytes)
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        self.budget.used.fetch_sub(self.bytes, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_are_reserved_while_they_fit_and_given_back_when_dropped() {
        let budget = ReadyBudget::new(100);
        let first = budget.reserve(60).expect("fits");
        assert!(!budget.has_room(41));
        assert!(budget.reserve(41).is_none());
        let second = budget.reserve(40).expect("fits exactly");
        assert_eq!(budget.used(), 100);
        drop(first);
        assert_eq!(budget.used(), 40);
        assert!(budget.has_room(60));
        drop(second);
        assert_eq!(budget.used(), 0);
    }

    #[test]
    fn an_empty_budget_keeps_nothing_ready() {
        let budget = ReadyBudget::new(0);
        assert!(budget.reserve(1).is_none());
        assert!(!budget.has_room(1));
    }
}
