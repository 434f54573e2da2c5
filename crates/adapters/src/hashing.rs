//! The hasher of the maps looked up on every request (connections by user; generations and
//! rate budgets by account; windows by subject; bearer tokens that passed): foldhash, seeded
//! at random for each process, several times faster than the standard library's SipHash on
//! these short keys.

pub(crate) type RandomState = foldhash::fast::RandomState;

pub(crate) type HashMap<K, V> = std::collections::HashMap<K, V, RandomState>;
