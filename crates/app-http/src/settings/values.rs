//! How values given as text (environment variables) become typed settings.

use secrecy::SecretString;
use serde::Deserialize;

/// A token encryption key and its id (stored beside every token it encrypts).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EncryptionKey {
    pub id: String,
    /// base64 of 32 bytes.
    pub key: SecretString,
}

/// The items of a list given as one string (an environment variable): separated by commas,
/// trimmed, empty ones dropped.
fn comma_separated(text: &str) -> impl Iterator<Item = &str> {
    text.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
}

/// A list given as a TOML array, or as one comma-separated string (an environment variable).
pub(super) fn list_or_comma_separated<'de, D>(deserializer: D) -> Result<Vec<String>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum List {
        Items(Vec<String>),
        Text(String),
    }
    let items = match List::deserialize(deserializer)? {
        List::Items(items) => items,
        List::Text(text) => comma_separated(&text).map(str::to_owned).collect(),
    };
    Ok(items
        .into_iter()
        .map(|item| item.trim().to_owned())
        .filter(|item| !item.is_empty())
        .collect())
}

/// An empty string is no secret at all (an environment variable set to nothing).
pub(super) fn optional_secret<'de, D>(deserializer: D) -> Result<Option<SecretString>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    let value = Option::<String>::deserialize(deserializer)?;
    Ok(value
        .filter(|v| !v.trim().is_empty())
        .map(SecretString::from))
}

/// Keys as a TOML array of `{ id, key }`, or as `id:base64,id:base64` (an environment variable).
pub(super) fn keys_or_text<'de, D>(deserializer: D) -> Result<Vec<EncryptionKey>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Keys {
        Items(Vec<EncryptionKey>),
        Text(String),
    }
    match Keys::deserialize(deserializer)? {
        Keys::Items(items) => Ok(items),
        Keys::Text(text) => comma_separated(&text)
            .map(|item| {
                let (id, key) = item.split_once(':').ok_or_else(|| {
                    serde::de::Error::custom(
                        "calendly.token_encryption_keys: each key is id:base64, separated by commas",
                    )
                })?;
                Ok(EncryptionKey {
                    id: id.trim().to_owned(),
                    key: SecretString::from(key.trim()),
                })
            })
            .collect(),
    }
}
