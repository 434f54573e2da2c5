//! The figures of staying fresh within Calendly's rate limit: cache lookups, webhook
//! deliveries, and questions refused while an account's call budget is spent.

use adapters::cache::{CacheKind, CacheObserver};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LookupLabels {
    /// `event_types`, `available_times` or `busy_times`.
    kind: &'static str,
    /// `hit` or `miss`.
    result: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct WebhookLabels {
    /// Calendly's event name (`invitee.created`…), `other` for one the gateway does not know,
    /// `none` when the delivery was refused before it was read.
    event: String,
    /// `accepted`, `invalid_signature`, `not_found`, `too_large`, `unreadable`.
    verdict: &'static str,
}

/// The series, registered in the process's registry.
#[derive(Debug, Clone, Default)]
pub struct FreshnessMetrics {
    lookups: Family<LookupLabels, Counter>,
    webhooks: Family<WebhookLabels, Counter>,
    budget_refusals: Counter,
}

impl FreshnessMetrics {
    pub fn register(registry: &mut Registry) -> Self {
        let metrics = Self::default();
        registry.register(
            "cache_lookups",
            "Answers looked up in the cache, by kind and result (hit, miss)",
            metrics.lookups.clone(),
        );
        registry.register(
            "webhook_deliveries",
            "Webhook deliveries received, by event and verdict",
            metrics.webhooks.clone(),
        );
        registry.register(
            "calendly_rate_budget_refusals",
            "Questions answered 429 without a call, the account's Calendly budget being spent",
            metrics.budget_refusals.clone(),
        );
        metrics
    }

    pub fn webhook(&self, event: &str, verdict: &'static str) {
        let event = match event {
            "invitee.created"
            | "invitee.canceled"
            | "invitee_no_show.created"
            | "invitee_no_show.deleted"
            | "event_type.created"
            | "event_type.updated"
            | "event_type.deleted"
            | "routing_form_submission.created"
            | "none" => event,
            _ => "other",
        };
        self.webhooks
            .get_or_create(&WebhookLabels {
                event: event.to_owned(),
                verdict,
            })
            .inc();
    }

    pub fn budget_refusal(&self) {
        self.budget_refusals.inc();
    }
}

impl CacheObserver for FreshnessMetrics {
    fn looked_up(&self, kind: CacheKind, hit: bool) {
        self.lookups
            .get_or_create(&LookupLabels {
                kind: kind.as_str(),
                result: if hit { "hit" } else { "miss" },
            })
            .inc();
    }
}
