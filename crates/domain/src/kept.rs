//! The port of whole answers kept ([`KeptAnswers`]), beside the provider's.

use crate::available::AvailableTimes;
use crate::model::{CalendlyUserUri, EventTypeUri};
use crate::time_range::TimeRange;

/// Answers to whole availability questions, kept by an adapter that knows how long each stays
/// what the provider's answers give (the cache of those answers): asked before anything else
/// about the question, so that a question asked again costs one look.
///
/// Errors: none; what cannot be kept is not.
pub trait KeptAnswers: Send + Sync {
    /// The answer kept for `asked`, still what the provider's answers give (cut by the caller
    /// to what is still ahead); otherwise how to keep the answer about to be made.
    fn recall(&self, asked: &AskedTimes<'_>) -> Recall;
}

/// An availability question as asked: `range` before any of it is dropped as past.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AskedTimes<'a> {
    pub account: &'a CalendlyUserUri,
    /// The event type asked for; `None`: the account's first that can be booked.
    pub event_type: Option<&'a EventTypeUri>,
    pub range: TimeRange,
}

/// What [`KeptAnswers::recall`] found.
#[derive(Debug)]
pub enum Recall {
    /// The answer kept, from the times that were ahead when it was made.
    Kept(AvailableTimes),
    /// Nothing kept: the answer, once made, is handed to this.
    Keep(KeepAnswer),
    /// Nothing kept, and nothing will be.
    Nothing,
}

/// Keeps an answer made after a [`Recall::Keep`]: told the event type it is about, the range
/// asked of the provider, and the answer.
pub struct KeepAnswer(Box<KeepFn>);

/// How an answer is kept.
type KeepFn = dyn FnOnce(&EventTypeUri, TimeRange, &AvailableTimes) -> KeepFuture + Send;

/// What keeping an answer does, once told of it.
pub type KeepFuture = futures::future::BoxFuture<'static, ()>;

impl KeepAnswer {
    pub fn new(
        keep: impl FnOnce(&EventTypeUri, TimeRange, &AvailableTimes) -> KeepFuture + Send + 'static,
    ) -> Self {
        Self(Box::new(keep))
    }

    pub async fn keep(self, event_type: &EventTypeUri, asked: TimeRange, answer: &AvailableTimes) {
        (self.0)(event_type, asked, answer).await;
    }
}

impl std::fmt::Debug for KeepAnswer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeepAnswer")
    }
}

/// Keeps no answer: for a provider without a cache.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoKeptAnswers;

impl KeptAnswers for NoKeptAnswers {
    fn recall(&self, _: &AskedTimes<'_>) -> Recall {
        Recall::Nothing
    }
}
