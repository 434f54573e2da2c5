//! Configuration: `config/default.toml`, then `config/$APP_ENV.toml` (`APP_ENV` defaults to
//! `local`), then `APP__SECTION__KEY` environment variables; later wins. Loaded once at start
//! and passed in.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use adapters::crypto::TokenCipher;
use config::{Config, Environment, File, FileFormat};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use values::{keys_or_text, list_or_comma_separated, optional_secret};

/// The development settings, compiled in so that production can recognise them wherever it runs.
const LOCAL_TOML: &str = include_str!("../../../../config/local.toml");

/// The longest `calendly.timeout_ms` accepted: ten minutes.
pub const MAX_CALENDLY_TIMEOUT_MS: u64 = 600_000;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub server: ServerSettings,
    pub http: HttpSettings,
    pub database: DatabaseSettings,
    pub calendly: CalendlySettings,
    pub auth: AuthSettings,
    pub limits: LimitsSettings,
    pub cache: CacheSettings,
    pub webhooks: WebhookSettings,
    pub log: LogSettings,
    #[serde(default)]
    pub demo: DemoSettings,
}

/// The reference web client at `/demo/` and its sign-in, `POST /demo/session`: on in the local
/// profile only (production refuses it).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DemoSettings {
    #[serde(default)]
    pub enabled: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    pub host: String,
    /// `0` picks a free port.
    pub port: u16,
    /// HTTP worker threads; `0` means one per CPU.
    pub workers: usize,
    /// How long in-flight requests may take to finish after SIGTERM/SIGINT.
    pub shutdown_timeout_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpSettings {
    /// Origins whose pages may call the gateway from a browser (CORS), such as
    /// `https://app.example.com`; `*` allows any. None by default. In the environment, a
    /// comma-separated list.
    #[serde(deserialize_with = "list_or_comma_separated")]
    pub cors_allowed_origins: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    /// `postgres://…` selects PostgreSQL; anything else is an SQLite file
    /// (`sqlite://data/calendly-gateway.db`). May hold a password, hence secret.
    pub url: SecretString,
    pub pool_max_size: usize,
    pub pool_timeout_ms: u64,
    pub statement_timeout_ms: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendlySettings {
    pub api_base_url: String,
    /// Calendly's OAuth server, e.g. `https://auth.calendly.com`.
    pub auth_base_url: String,
    /// The OAuth application; OAuth is off while its client id is unset.
    #[serde(default)]
    pub oauth: OAuthSettings,
    /// The single key of the contract, id `default`; optional once `token_encryption_keys`
    /// holds keys.
    #[serde(default, deserialize_with = "optional_secret")]
    pub token_encryption_key: Option<SecretString>,
    /// Keys with ids: the first encrypts, every one (and `token_encryption_key`) decrypts. In
    /// the environment, `id:base64,id:base64`.
    #[serde(deserialize_with = "keys_or_text")]
    pub token_encryption_keys: Vec<EncryptionKey>,
    pub timeout_ms: u64,
    pub connect_timeout_ms: u64,
    /// Calls in a row that fail (transport error, timeout, 5xx) before calls are refused at
    /// once for `circuit_breaker_open_ms`; `0` never refuses.
    pub circuit_breaker_failures: u32,
    pub circuit_breaker_open_ms: u64,
    pub max_days_per_call: u32,
    /// Busy-time ranges are split into calls of at most this many days (Calendly: 7).
    pub max_busy_days_per_call: u32,
    pub max_concurrent_calls_per_request: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSettings {
    pub jwt_secret: SecretString,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsSettings {
    pub max_range_days: u32,
    /// Most event types one slots request may be about.
    pub max_event_types_per_request: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CacheSettings {
    /// How long a user's event types are remembered; `0` remembers nothing.
    pub event_types_ttl_secs: u64,
    /// At most this many users' event types are remembered (least recently used go first).
    pub event_types_max_users: u64,
    /// At most this many MiB of event types are remembered.
    pub event_types_max_mib: u64,
    /// How long Calendly's available and busy times are reused; `0` remembers nothing.
    pub availability_ttl_secs: u64,
    /// At most this many windows (a week of one event type, or of busy times) are remembered.
    pub availability_max_windows: u64,
    /// At most this many MiB of available and busy times are remembered.
    pub availability_max_mib: u64,
    /// At most this many MiB more hold remembered answers written out in full, ready to serve
    /// (those read first); `0` writes each answer anew from its compact form.
    pub ready_max_mib: u64,
    /// At most this many users' connections are kept in memory (PostgreSQL only, while its
    /// notices are listened to); `0` reads the connection from the database on every request.
    pub connections_max_users: u64,
    /// Redis, the tier every instance shares under its own cache (event types, available and
    /// busy times, rate budgets); unset: each instance keeps its own. May hold a password.
    #[serde(default, deserialize_with = "optional_secret")]
    pub redis_url: Option<SecretString>,
    /// Put before every Redis key, so that deployments can share one Redis.
    pub redis_prefix: String,
    /// The deadline of each Redis operation; a late one counts as a miss.
    pub redis_timeout_ms: u64,
    /// Multiplexed connections to Redis kept open by each instance.
    pub redis_connections: usize,
    /// A PEM file of the CA that signed Redis's certificate (`rediss://`), trusted beside the
    /// system's roots.
    #[serde(default, deserialize_with = "oauth::optional_text")]
    pub redis_ca_file: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    /// A `tracing` filter, e.g. `info` or `info,adapters=debug`; `RUST_LOG` overrides it.
    pub level: String,
    pub format: LogFormat,
}

const JWT_SECRET: (&str, &str) = ("auth.jwt_secret", "APP__AUTH__JWT_SECRET");
const ENCRYPTION_KEY: (&str, &str) = (
    "calendly.token_encryption_key",
    "APP__CALENDLY__TOKEN_ENCRYPTION_KEY",
);
const ENCRYPTION_KEYS: (&str, &str) = (
    "calendly.token_encryption_keys",
    "APP__CALENDLY__TOKEN_ENCRYPTION_KEYS",
);

impl Settings {
    /// Loads from `config/` (or `$APP_CONFIG_DIR`), `$APP_ENV` and the process environment.
    pub fn load() -> Result<Self, SettingsError> {
        let dir = std::env::var_os("APP_CONFIG_DIR")
            .map_or_else(|| PathBuf::from("config"), PathBuf::from);
        let env = std::env::var("APP_ENV").unwrap_or_else(|_| "local".into());
        Self::load_from(&dir, &env, std::env::vars().collect())
    }

    /// Loads from `dir` for environment `env`, with `vars` as the environment variables.
    pub fn load_from(
        dir: &Path,
        env: &str,
        vars: HashMap<String, String>,
    ) -> Result<Self, SettingsError> {
        // Environment values stay strings until a typed field asks for a number: parsing them
        // eagerly would turn an all-digit secret into a float and lose digits.
        let config = Config::builder()
            .add_source(File::from(dir.join("default.toml")))
            .add_source(File::from(dir.join(format!("{env}.toml"))).required(false))
            .add_source(
                Environment::with_prefix("APP")
                    .prefix_separator("__")
                    .separator("__")
                    .source(Some(vars)),
            )
            .build()?;
        let missing = |(key, var): (&'static str, &'static str)| SettingsError::MissingSecret {
            key,
            var,
            env: env.to_owned(),
        };
        if config
            .get_string(JWT_SECRET.0)
            .map_or(true, |v| v.trim().is_empty())
        {
            return Err(missing(JWT_SECRET));
        }
        let settings: Settings = config.try_deserialize()?;
        if settings.token_encryption_keys().is_empty() {
            return Err(missing(ENCRYPTION_KEY));
        }
        if env == "production" {
            settings.refuse_development_secrets()?;
            if settings.demo.enabled {
                return Err(SettingsError::Invalid(
                    "demo.enabled signs anyone in as any user: it is refused with APP_ENV=production (unset APP__DEMO__ENABLED)".into(),
                ));
            }
        }
        settings.validate()?;
        settings.calendly.oauth.application(env)?;
        Ok(settings)
    }

    fn refuse_development_secrets(&self) -> Result<(), SettingsError> {
        let local = Config::builder()
            .add_source(File::from_str(LOCAL_TOML, FileFormat::Toml))
            .build()?;
        let development = |(key, var): (&'static str, &'static str)| {
            SettingsError::DevelopmentSecret { key, var }
        };
        if local
            .get_string(JWT_SECRET.0)
            .is_ok_and(|dev| dev == self.auth.jwt_secret.expose_secret())
        {
            return Err(development(JWT_SECRET));
        }
        if let Some(names) = self
            .calendly
            .oauth
            .development_secret(|key| local.get_string(key).ok())
        {
            return Err(development(names));
        }
        let dev_key = local.get_string(ENCRYPTION_KEY.0).unwrap_or_default();
        for (id, key) in self.token_encryption_keys() {
            if key.expose_secret().trim() == dev_key.trim() {
                return Err(development(if id == TokenCipher::DEFAULT_KEY_ID {
                    ENCRYPTION_KEY
                } else {
                    ENCRYPTION_KEYS
                }));
            }
        }
        Ok(())
    }

    /// Every token encryption key with its id, the one that encrypts first:
    /// `calendly.token_encryption_keys` in order, then `calendly.token_encryption_key` as
    /// `default` (unless the list has a `default` of its own).
    pub fn token_encryption_keys(&self) -> Vec<(String, SecretString)> {
        let mut keys: Vec<(String, SecretString)> = self
            .calendly
            .token_encryption_keys
            .iter()
            .map(|k| (k.id.clone(), k.key.clone()))
            .collect();
        if let Some(single) = &self.calendly.token_encryption_key
            && !keys.iter().any(|(id, _)| id == TokenCipher::DEFAULT_KEY_ID)
        {
            keys.push((TokenCipher::DEFAULT_KEY_ID.to_owned(), single.clone()));
        }
        keys
    }

    fn validate(&self) -> Result<(), SettingsError> {
        let invalid = |what: &str| Err(SettingsError::Invalid(what.to_owned()));
        if self.calendly.max_days_per_call == 0 {
            return invalid("calendly.max_days_per_call must be at least 1");
        }
        if self.calendly.max_busy_days_per_call == 0 {
            return invalid("calendly.max_busy_days_per_call must be at least 1");
        }
        if self.limits.max_range_days == 0 {
            return invalid("limits.max_range_days must be at least 1");
        }
        if self.cache.redis_timeout_ms == 0 || self.cache.redis_timeout_ms > 60_000 {
            return invalid("cache.redis_timeout_ms must be between 1 and 60000");
        }
        if !(1..=64).contains(&self.cache.redis_connections) {
            return invalid("cache.redis_connections must be between 1 and 64");
        }
        if self.limits.max_event_types_per_request == 0 {
            return invalid("limits.max_event_types_per_request must be at least 1");
        }
        if self.calendly.max_concurrent_calls_per_request == 0 {
            return invalid("calendly.max_concurrent_calls_per_request must be at least 1");
        }
        if self.database.pool_max_size == 0 {
            return invalid("database.pool_max_size must be at least 1");
        }
        if !(1..=MAX_CALENDLY_TIMEOUT_MS).contains(&self.calendly.timeout_ms) {
            return invalid("calendly.timeout_ms must be from 1 to 600000 (ten minutes)");
        }
        for (key, url) in [
            ("calendly.api_base_url", &self.calendly.api_base_url),
            ("calendly.auth_base_url", &self.calendly.auth_base_url),
        ] {
            if !oauth::is_web_url(url) {
                return Err(SettingsError::Invalid(format!(
                    "{key}: {url:?} is not an http(s) URL"
                )));
            }
        }
        self.webhooks.validate(&self.calendly.oauth)?;
        if self.calendly.connect_timeout_ms == 0 {
            return invalid("calendly.connect_timeout_ms must be at least 1");
        }
        for origin in &self.http.cors_allowed_origins {
            let is_origin = origin == "*"
                || ["http://", "https://"].iter().any(|scheme| {
                    origin
                        .strip_prefix(scheme)
                        .is_some_and(|host| !host.is_empty() && !host.contains('/'))
                });
            if !is_origin {
                return Err(SettingsError::Invalid(format!(
                    "http.cors_allowed_origins: {origin:?} is not an origin such as https://app.example.com (scheme and host, no path), nor *"
                )));
            }
        }
        Ok(())
    }

    /// `calendly.timeout_ms`, at most [`MAX_CALENDLY_TIMEOUT_MS`] once validated.
    pub fn calendly_timeout(&self) -> Duration {
        Duration::from_millis(self.calendly.timeout_ms)
    }

    /// The OAuth application, when `calendly.oauth.client_id` is set (validated at load).
    pub fn oauth_application(&self) -> Option<OAuthApplication> {
        self.calendly.oauth.application("").ok().flatten()
    }

    pub fn calendly_connect_timeout(&self) -> Duration {
        Duration::from_millis(self.calendly.connect_timeout_ms)
    }
}

mod error;
mod oauth;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_oauth;
mod values;
mod webhooks;

pub use error::SettingsError;
pub use oauth::{CALLBACK_PATH, OAuthApplication, OAuthSettings};
pub use values::EncryptionKey;
pub use webhooks::WebhookSettings;
