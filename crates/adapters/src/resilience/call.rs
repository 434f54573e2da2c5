//! What both Calendly clients (the API's and the OAuth server's) share: how a call ended, who
//! is told of it, and why a client could not be built.

use std::fmt;
use std::time::Duration;

/// How a call to Calendly ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallOutcome {
    /// Calendly answered with this status (and its whole body arrived).
    Status(u16),
    /// No complete answer within the deadline.
    Timeout,
    /// No complete answer: connection refused or reset, a body cut short.
    Failed,
}

/// Is told of every call to Calendly: which endpoint (its path, such as `/users/me`), how it
/// ended and how long it took.
pub trait CallObserver: Send + Sync + fmt::Debug {
    fn observe(&self, endpoint: &'static str, outcome: CallOutcome, elapsed: Duration);

    /// A call to `endpoint` was not made: the account's budget was spent.
    fn refused_for_budget(&self, _endpoint: &'static str) {}
}

/// The HTTP client could not be set up (no TLS backend, for instance, or a base URL that is
/// not one).
#[derive(Debug, thiserror::Error)]
pub enum ClientBuildError {
    #[error("cannot set up the Calendly HTTP client: {0}")]
    Http(#[from] reqwest::Error),
    #[error("{0:?} is not a URL: {1}")]
    BaseUrl(String, String),
}
