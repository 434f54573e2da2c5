//! Calendly's answers remembered in process, by the Calendly account they belong to: a
//! decorator of [`SchedulingProvider`] ([`CachedScheduling`]) over a store that every HTTP
//! worker shares ([`ProviderCache`], on `moka`), which is also the [`AccountCache`] the use
//! cases tell when an account's answers are stale.
//!
//! The key of each answer holds everything the answer depends on: the account, and for
//! available and busy times the event type and the window of time (see [`windows`]). A load
//! in flight for one account can therefore never be joined by a question about another,
//! whatever the gateway user behind either; the token is only the credential the load is
//! made with.
//!
//! Forgetting an account moves it to a new generation ([`generations`]), which is part of every
//! key: a load begun before the forgetting lands under the old generation, where no question
//! looks.
//!
//! With a shared tier ([`SharedTier`], Redis), a miss in process looks there before asking the
//! provider, and what the provider answers is put there for the other instances ([`shared`]).

mod answers;
mod compact;
mod encoding;
mod forgetting;
mod front;
mod generations;
mod hold;
mod in_flight;
mod kept_types;
mod merge;
mod numbering;
mod packed;
mod provider;
mod ready;
mod recall;
mod scheduling;
mod scripts;
mod shard;
mod shared;
mod skeleton;
mod store;
#[cfg(test)]
mod tests;
mod tiered;
mod windows;

pub use provider::{CacheKind, CacheObserver, CacheSettings, ProviderCache};
pub use scheduling::CachedScheduling;
