//! The figures of staying fresh within Calendly's rate limit: cache lookups (in process and in
//! the shared tier), the shared tier's health, webhook deliveries, and questions refused while
//! an account's call budget is spent.

use std::sync::{Arc, OnceLock};

use adapters::cache::{CacheKind, CacheObserver};
use adapters::shared_tier::SharedTierObserver;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
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
    /// `accepted`, `invalid_signature`, `gone` (an unknown hook), `too_large`, `unreadable`.
    verdict: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SharedOpLabels {
    /// `event_types`, `available_times`, `busy_times`, `forget`, `rate_admit`,
    /// `rate_record`, `connect`.
    op: &'static str,
}

/// The series, registered in the process's registry.
#[derive(Debug, Clone, Default)]
pub struct FreshnessMetrics {
    lookups: Family<LookupLabels, Counter>,
    /// The series of `lookups` once made, by kind and result: a lookup is counted on every
    /// request, without hashing its labels each time.
    lookup_series: Arc<[OnceLock<Counter>; 8]>,
    shared_lookups: Family<LookupLabels, Counter>,
    shared_failures: Family<SharedOpLabels, Counter>,
    shared_up: Gauge,
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
            "cache_shared_lookups",
            "Misses in process looked up in the shared tier (Redis), by kind and result (hit, miss)",
            metrics.shared_lookups.clone(),
        );
        registry.register(
            "cache_shared_failures",
            "Operations of the shared tier (Redis) that failed or ran past cache.redis_timeout_ms",
            metrics.shared_failures.clone(),
        );
        registry.register(
            "cache_shared_up",
            "1 while the shared tier (Redis) answers (or none is configured), 0 after a failure until it answers again",
            metrics.shared_up.clone(),
        );
        metrics.shared_up.set(1);
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

fn lookup(kind: CacheKind, hit: bool) -> LookupLabels {
    LookupLabels {
        kind: kind.as_str(),
        result: if hit { "hit" } else { "miss" },
    }
}

impl CacheObserver for FreshnessMetrics {
    fn looked_up(&self, kind: CacheKind, hit: bool) {
        let at = match kind {
            CacheKind::EventTypes => 0,
            CacheKind::AvailableTimes => 2,
            CacheKind::BusyTimes => 4,
            CacheKind::Connections => 6,
        } + usize::from(hit);
        self.lookup_series[at]
            .get_or_init(|| self.lookups.get_or_create(&lookup(kind, hit)).clone())
            .inc();
    }

    fn looked_up_shared(&self, kind: CacheKind, hit: bool) {
        self.shared_lookups.get_or_create(&lookup(kind, hit)).inc();
    }
}

impl SharedTierObserver for FreshnessMetrics {
    fn failed(&self, op: &'static str) {
        self.shared_failures
            .get_or_create(&SharedOpLabels { op })
            .inc();
    }

    fn reachable(&self, up: bool) {
        self.shared_up.set(i64::from(up));
    }
}
