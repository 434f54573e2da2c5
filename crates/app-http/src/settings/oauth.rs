//! `calendly.oauth`: the OAuth application registered with Calendly, which turns on the
//! "Connect" flow when its client id is set.

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::{SettingsError, optional_secret};

/// The path the gateway answers Calendly's redirect on.
pub const CALLBACK_PATH: &str = "/calendly/oauth/callback";

pub(super) const CLIENT_SECRET: (&str, &str) = (
    "calendly.oauth.client_secret",
    "APP__CALENDLY__OAUTH__CLIENT_SECRET",
);

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OAuthSettings {
    /// The application's client id; OAuth is off while it is unset (or empty).
    #[serde(default, deserialize_with = "optional_text")]
    pub client_id: Option<String>,
    #[serde(default, deserialize_with = "optional_secret")]
    pub client_secret: Option<SecretString>,
    /// The gateway's public callback, as registered with Calendly.
    #[serde(default, deserialize_with = "optional_text")]
    pub redirect_uri: Option<String>,
    /// The web application's page the browser lands on after the callback; unset: the
    /// callback answers JSON.
    #[serde(default, deserialize_with = "optional_text")]
    pub return_url: Option<String>,
}

/// The OAuth application, when OAuth is on: every key it needs, validated.
#[derive(Debug, Clone)]
pub struct OAuthApplication {
    pub client_id: String,
    pub client_secret: SecretString,
    pub redirect_uri: String,
    pub return_url: Option<String>,
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
                "calendly.oauth.redirect_uri is not set: with calendly.oauth.client_id set, it is the gateway's public callback, ending in /calendly/oauth/callback".into(),
            );
        };
        if !is_web_url(redirect_uri) || !redirect_uri.ends_with(CALLBACK_PATH) {
            return invalid(format!(
                "calendly.oauth.redirect_uri: {redirect_uri:?} is not an http(s) URL ending in {CALLBACK_PATH}"
            ));
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
        }))
    }

    /// Whether the client secret is `development`'s.
    pub(super) fn has_development_secret(&self, development: Option<&str>) -> bool {
        matches!(
            (&self.client_secret, development),
            (Some(secret), Some(dev)) if secret.expose_secret() == dev
        )
    }
}
