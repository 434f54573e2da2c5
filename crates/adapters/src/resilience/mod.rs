//! What every provider over HTTP needs, whoever it is: a rate budget per account (from the
//! answers' `X-RateLimit-*` headers, in process and shared through Redis), a circuit breaker,
//! the one retry of a failed call and its pause, and what is told of each call.

mod budget;
mod call;
mod circuit;
mod retry;

pub use budget::RateBudgets;
pub(crate) use budget::RateHeaders;
pub use call::{CallObserver, CallOutcome, ClientBuildError};
pub use circuit::CircuitBreaker;
pub(crate) use retry::{RETRY_BACKOFF, jittered, retry_pause};
