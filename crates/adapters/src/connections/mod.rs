//! Connections kept in memory while PostgreSQL's notices of their changes are heard, and the
//! notices by which instances tell each other what they forgot of an account: the cache and its
//! listener (`listened.rs`), and the ports it decorates (`ports.rs`: the token repository, which
//! reads from memory, and the account cache, whose forgettings are told to the others).

mod listened;
mod ports;

pub use listened::{ACCOUNTS_CHANNEL, CHANNEL, ConnectionCache, HEARTBEAT, LISTENER_NAME};
pub use ports::{ListenedTokens, SharedForgetting};
