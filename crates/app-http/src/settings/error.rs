//! Why settings cannot be used.

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("configuration cannot be read: {0}")]
    Unreadable(#[from] config::ConfigError),
    #[error("{key} is not set: give it in config/{env}.toml or as {var}")]
    MissingSecret {
        key: &'static str,
        var: &'static str,
        env: String,
    },
    #[error(
        "{key} still has its development value; set a real one ({var}) before running with APP_ENV=production"
    )]
    DevelopmentSecret {
        key: &'static str,
        var: &'static str,
    },
    #[error("{0}")]
    Invalid(String),
}
