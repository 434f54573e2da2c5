//! `calendly.oauth`: the OAuth application registered with Calendly, which turns on the
//! "Connect" flow when its client id is set.

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::error::SettingsError;
use super::values::optional_secret;

/// The path the gateway answers Calendly's redirect on.
pub const CALLBACK_PATH: &str = "/calendly/oauth/callback";

pub(super) const CLIENT_SECRET: (&str, &str) = (
    "calendly.oauth.client_secret",
    "APP__CALENDLY__OAUTH__CLIENT_SECRET",
);

pub(super) const WEBHOOK_SIGNING_KEY: (&str, &str) = (
    "calendly.oauth.webhook_signing_key",
    "APP__CALENDLY__OAUTH__WEBHOOK_SIGNING_KEY",
);

pub(super) const PREVIOUS_WEBHOOK_SIGNING_KEY: (&str, &str) = (
    "calendly.oauth.previous_webhook_signing_key",
    "APP__CALENDLY__OAUTH__PREVIOUS_WEBHOOK_SIGNING_KEY",
);

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OAuthSettings {
    /// The application's client id; OAuth is off while it is unset (or empty).
    #[serde(default, deserialize_with = "optional_text")]
    pub client_id: Option<String>,
    #[serde(default, deserialize_with = "optional_secret")]
    pub client_secret: Option<SecretString>,
    /// Where Calendly sends the browser back, as registered with Calendly: the web
    /// application's own page (which calls `POST /calendly/oauth/complete`), or the gateway's
    /// callback (which passes the parameters on to `return_url`).
    #[serde(default, deserialize_with = "optional_text")]
    pub redirect_uri: Option<String>,
    /// The web application's page the gateway's callback sends the browser on to.
    #[serde(default, deserialize_with = "optional_text")]
    pub return_url: Option<String>,
    /// The scopes asked for, space-separated (sent as `scope` on the authorization URL);
    /// unset: those registered with the application.
    #[serde(default, deserialize_with = "optional_text")]
    pub scopes: Option<String>,
    /// The application's webhook signing key: Calendly signs the deliveries of subscriptions
    /// made with OAuth tokens with it.
    #[serde(default, deserialize_with = "optional_secret")]
    pub webhook_signing_key: Option<SecretString>,
    /// The key before it, accepted too while the key is rotated.
    #[serde(default, deserialize_with = "optional_secret")]
    pub previous_webhook_signing_key: Option<SecretString>,
}

/// The OAuth application, when OAuth is on: every key it needs, validated.
#[derive(Debug, Clone)]
pub struct OAuthApplication {
    pub client_id: String,
    pub client_secret: SecretString,
    pub redirect_uri: String,
    pub return_url: Option<String>,
    pub scopes: Option<String>,
    /// The application's webhook signing keys, the current first; empty when unset (then
    /// webhooks must be off: checked at load).
    pub webhook_signing_keys: Vec<SecretString>,
}

/// An empty string is no value (an environment variable set to nothing).
pub(super) fn optional_text<'de, D>(deserializer: D) -> Result<Option<String>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    let value = Option::<String>::deserialize(deserializer)?;
    Ok(value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()))
}

/// Whether `url` is an absolute `http(s)` URL with a host and no fragment.
pub(super) fn is_web_url(url: &str) -> bool {
    let Some(rest) = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
    else {
        return false;
    };
    let host = rest.split(['/', '?']).next().unwrap_or_default();
    !host.is_empty() && !url.contains('#') && url.bytes().all(|b| b.is_ascii_graphic())
}

impl OAuthSettings {
    /// The application when `client_id` is set, or `None`; a key missing or malformed beside
    /// a client id is an error.
    pub(super) fn application(&self, env: &str) -> Result<Option<OAuthApplication>, SettingsError> {
        let Some(client_id) = &self.client_id else {
            return Ok(None);
        };
        let invalid = |what: String| Err(SettingsError::Invalid(what));
        let Some(client_secret) = &self.client_secret else {
            return Err(SettingsError::MissingSecret {
                key: CLIENT_SECRET.0,
                var: CLIENT_SECRET.1,
                env: env.to_owned(),
            });
        };
        let Some(redirect_uri) = &self.redirect_uri else {
            return invalid(
                "calendly.oauth.redirect_uri is not set: with calendly.oauth.client_id set, it is where Calendly sends the browser back (the web application's page, or the gateway's /calendly/oauth/callback)".into(),
            );
        };
        if !is_web_url(redirect_uri) {
            return invalid(format!(
                "calendly.oauth.redirect_uri: {redirect_uri:?} is not an http(s) URL without a fragment"
            ));
        }
        if redirect_uri.ends_with(CALLBACK_PATH) && self.return_url.is_none() {
            return invalid(format!(
                "calendly.oauth.return_url is not set: calendly.oauth.redirect_uri is the gateway's {CALLBACK_PATH}, which passes Calendly's answer on to the web application's page at return_url"
            ));
        }
        if let Some(scopes) = &self.scopes
            && !scopes.bytes().all(|b| b.is_ascii_graphic() || b == b' ')
        {
            return invalid("calendly.oauth.scopes must be scope names separated by spaces".into());
        }
        if let Some(return_url) = &self.return_url
            && !is_web_url(return_url)
        {
            return invalid(format!(
                "calendly.oauth.return_url: {return_url:?} is not an http(s) URL without a fragment"
            ));
        }
        if !client_id.bytes().all(|b| b.is_ascii_graphic()) {
            return invalid("calendly.oauth.client_id must be visible ASCII".into());
        }
        Ok(Some(OAuthApplication {
            client_id: client_id.clone(),
            client_secret: client_secret.clone(),
            redirect_uri: redirect_uri.clone(),
            return_url: self.return_url.clone(),
            scopes: self.scopes.clone(),
            webhook_signing_keys: [
                &self.webhook_signing_key,
                &self.previous_webhook_signing_key,
            ]
            .into_iter()
            .flatten()
            .cloned()
            .collect(),
        }))
    }

    /// The first of the application's secrets (client secret, webhook signing keys) that
    /// still has its value in `development` (the local profile's values by key).
    pub(super) fn development_secret(
        &self,
        development: impl Fn(&str) -> Option<String>,
    ) -> Option<(&'static str, &'static str)> {
        [
            (CLIENT_SECRET, &self.client_secret),
            (WEBHOOK_SIGNING_KEY, &self.webhook_signing_key),
            (
                PREVIOUS_WEBHOOK_SIGNING_KEY,
                &self.previous_webhook_signing_key,
            ),
        ]
        .into_iter()
        .find_map(|(names, value)| match (value, development(names.0)) {
            (Some(secret), Some(dev)) if secret.expose_secret() == dev => Some(names),
            _ => None,
        })
    }
}
