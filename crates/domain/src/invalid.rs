//! What the domain's values refuse.

/// A value from outside that does not have the shape the domain needs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidValue(pub String);
