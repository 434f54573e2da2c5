//! Calendly's webhook subscriptions (`/webhook_subscriptions`) as a [`WebhookSubscriptions`],
//! on the same client, deadline, circuit and rate budget as the rest of its API.

use std::collections::HashSet;

use async_trait::async_trait;
use domain::{
    CalendlyToken, CalendlyUserUri, HookId, NewHook, ProviderError, Rejection, SigningKey,
    SubscriptionState, WebhookSubscriptions,
};
use serde::Deserialize;
use serde_json::json;
use tracing::instrument;

use super::wire::{Pagination, malformed};
use super::{CalendlyClient, Call, MAX_PAGES, PAGE_SIZE};
use crate::crypto::random_text;

/// The events a subscription is made for: what changes available times, busy times and event
/// types.
pub(super) const EVENTS: [&str; 5] = [
    "invitee.created",
    "invitee.canceled",
    "event_type.created",
    "event_type.updated",
    "event_type.deleted",
];

#[derive(Deserialize)]
struct Created {
    resource: Resource,
}

#[derive(Deserialize)]
struct Resource {
    uri: String,
    #[serde(default)]
    callback_url: Option<String>,
}

#[derive(Deserialize)]
struct Shown {
    resource: ShownResource,
}

/// A subscription as `GET /webhook_subscriptions/{uuid}` shows it: `active` or `disabled`.
#[derive(Deserialize)]
struct ShownResource {
    state: String,
}

/// The id at the end of a subscription's URI.
fn uuid_of(uri: &str) -> Result<&str, ProviderError> {
    uri.rsplit_once("/webhook_subscriptions/")
        .map(|(_, id)| id)
        .filter(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        .ok_or_else(|| ProviderError::Unavailable {
            reason: "a webhook subscription URI without its id".into(),
        })
}

#[derive(Deserialize)]
struct Page {
    collection: Vec<Resource>,
    #[serde(default)]
    pagination: Option<Pagination>,
}

#[async_trait]
impl WebhookSubscriptions for CalendlyClient {
    fn new_hook(&self) -> NewHook {
        NewHook {
            // 18 bytes: 24 characters, all of them allowed in a hook id.
            hook_id: HookId::parse(random_text(18))
                .unwrap_or_else(|_| unreachable!("24 base64url characters are a hook id")),
            signing_key: SigningKey::new(random_text(32)),
        }
    }

    #[instrument(skip_all, fields(user = %user), err(Display))]
    async fn subscribe<'a>(
        &self,
        token: &CalendlyToken,
        user: &CalendlyUserUri,
        organization: &str,
        url: &str,
        key: Option<&'a SigningKey>,
    ) -> Result<String, ProviderError> {
        let mut body = json!({
            "url": url,
            "events": EVENTS,
            "organization": organization,
            "user": user.as_str(),
            "scope": "user",
        });
        if let Some(key) = key {
            body["signing_key"] = json!(key.expose());
        }
        let call = Call {
            method: reqwest::Method::POST,
            endpoint: "/webhook_subscriptions",
            path: None,
            query: &[],
            body: Some(&body),
        };
        let (answer, _) = self.call(token, Some(user), call).await?;
        let created: Created =
            serde_json::from_slice(&answer).map_err(|e| malformed("webhook subscription", e))?;
        Ok(created.resource.uri)
    }

    #[instrument(skip_all, fields(user = %user), err(Display))]
    async fn find(
        &self,
        token: &CalendlyToken,
        user: &CalendlyUserUri,
        organization: &str,
        url: &str,
    ) -> Result<Option<String>, ProviderError> {
        let mut page_token: Option<String> = None;
        let mut seen = HashSet::new();
        for _ in 0..MAX_PAGES {
            let mut query = vec![
                ("organization", organization),
                ("user", user.as_str()),
                ("scope", "user"),
                ("count", PAGE_SIZE),
            ];
            if let Some(page_token) = &page_token {
                query.push(("page_token", page_token));
            }
            let answer = self
                .get(token, user, "/webhook_subscriptions", &query)
                .await?;
            let page: Page = serde_json::from_slice(&answer)
                .map_err(|e| malformed("webhook subscription list", e))?;
            if let Some(found) = page
                .collection
                .into_iter()
                .find(|s| s.callback_url.as_deref() == Some(url))
            {
                return Ok(Some(found.uri));
            }
            match page.pagination.and_then(|p| p.next_page_token) {
                Some(next) if !next.is_empty() && seen.insert(next.clone()) => {
                    page_token = Some(next);
                }
                _ => return Ok(None),
            }
        }
        Ok(None)
    }

    #[instrument(skip_all, fields(user = %user), err(Display))]
    async fn state(
        &self,
        token: &CalendlyToken,
        user: &CalendlyUserUri,
        uri: &str,
    ) -> Result<Option<SubscriptionState>, ProviderError> {
        let uuid = uuid_of(uri)?;
        let call = Call {
            method: reqwest::Method::GET,
            endpoint: "/webhook_subscriptions/{uuid}",
            path: Some(format!("/webhook_subscriptions/{uuid}")),
            query: &[],
            body: None,
        };
        match self.call(token, Some(user), call).await {
            Ok((answer, _)) => {
                let shown: Shown = serde_json::from_slice(&answer)
                    .map_err(|e| malformed("webhook subscription", e))?;
                Ok(Some(match shown.resource.state.as_str() {
                    "disabled" => SubscriptionState::Disabled,
                    _ => SubscriptionState::Active,
                }))
            }
            Err(ProviderError::Rejected {
                reason: Rejection::NotFound,
                ..
            }) => Ok(None),
            Err(error) => Err(error),
        }
    }

    #[instrument(skip_all, err(Display))]
    async fn unsubscribe(&self, token: &CalendlyToken, uri: &str) -> Result<(), ProviderError> {
        let uuid = uuid_of(uri)?;
        let call = Call {
            method: reqwest::Method::DELETE,
            endpoint: "/webhook_subscriptions/{uuid}",
            path: Some(format!("/webhook_subscriptions/{uuid}")),
            query: &[],
            body: None,
        };
        match self.call(token, None, call).await {
            Ok(_)
            | Err(ProviderError::Rejected {
                reason: Rejection::NotFound,
                ..
            }) => Ok(()),
            Err(error) => Err(error),
        }
    }
}
