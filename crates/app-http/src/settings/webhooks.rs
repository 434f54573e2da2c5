//! `webhooks`: Calendly's webhook subscriptions (off while `public_base_url` is unset).

use serde::Deserialize;

use super::error::SettingsError;
use super::oauth::{OAuthSettings, is_web_url, optional_text};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookSettings {
    /// The gateway's base URL as Calendly reaches it; unset: no webhook subscriptions.
    #[serde(default, deserialize_with = "optional_text")]
    pub public_base_url: Option<String>,
    /// How old (or how far ahead) a delivery's signature time may be.
    pub tolerance_secs: u64,
    /// Each connection's subscription is looked at, at Calendly, at least this often.
    pub check_interval_secs: u64,
}

impl WebhookSettings {
    /// The subscriptions' settings, checked with the OAuth application's (`oauth`).
    pub(super) fn validate(&self, oauth: &OAuthSettings) -> Result<(), SettingsError> {
        let invalid = |what: &str| Err(SettingsError::Invalid(what.to_owned()));
        if let Some(url) = &self.public_base_url
            && (!is_web_url(url) || url.contains('?'))
        {
            return Err(SettingsError::Invalid(format!(
                "webhooks.public_base_url: {url:?} is not an http(s) base URL such as https://gateway.example.com"
            )));
        }
        if !(1..=86_400).contains(&self.tolerance_secs) {
            return invalid("webhooks.tolerance_secs must be from 1 to 86400 (a day)");
        }
        // Calendly disables a subscription after a day of failed deliveries.
        if !(1..=86_400).contains(&self.check_interval_secs) {
            return invalid("webhooks.check_interval_secs must be from 1 to 86400 (a day)");
        }
        if self.public_base_url.is_some()
            && oauth.client_id.is_some()
            && oauth.webhook_signing_key.is_none()
        {
            return invalid(
                "calendly.oauth.webhook_signing_key is not set (APP__CALENDLY__OAUTH__WEBHOOK_SIGNING_KEY): with OAuth and webhooks on, Calendly signs the deliveries of OAuth connections' subscriptions with the OAuth application's webhook signing key, shown where the application is registered",
            );
        }
        Ok(())
    }
}
