//! `POST /calendly/webhooks/{hook_id}`: Calendly's deliveries for one connection's
//! subscription. No bearer: the signature is the proof. Answered at once, since Calendly
//! disables a subscription whose deliveries keep failing; what a delivery changes (the cache)
//! is in memory and quick.

use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponse, web};
use domain::{GatewayError, HookId};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{
    ApiError, DATABASE_UNAVAILABLE, ErrorKind, HOOK_NOT_FOUND, INVALID_PARAMETER,
    INVALID_SIGNATURE, PAYLOAD_TOO_LARGE,
};
use crate::metrics::Metrics;
use crate::state::AppState;

/// The largest delivery accepted.
pub const MAX_DELIVERY_BYTES: usize = 64 * 1024;

/// The errors of `POST /calendly/webhooks/{hook_id}`.
pub const ERRORS: &[ErrorKind] = &[
    INVALID_PARAMETER,
    INVALID_SIGNATURE,
    HOOK_NOT_FOUND,
    PAYLOAD_TOO_LARGE,
    DATABASE_UNAVAILABLE,
];

/// The header Calendly signs deliveries in.
const SIGNATURE: &str = "calendly-webhook-signature";

/// A delivery taken in.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = WebhookAccepted)]
pub struct AcceptedBody {
    /// Always `accepted`, also for events the gateway does not act on.
    #[schema(example = "accepted")]
    pub status: &'static str,
}

/// Receives one of Calendly's webhook deliveries.
///
/// `Calendly-Webhook-Signature: t=<unix seconds>,v1=<hex>` must hold the HMAC-SHA256, under the
/// hook's signing key, of `<t>.<raw body>`, with `t` within `webhooks.tolerance_secs` of now;
/// several `v1` values may be given (any valid one passes). `invitee.*` forgets the account's
/// cached available and busy times, `event_type.*` also its event types.
#[utoipa::path(
    post,
    path = "/calendly/webhooks/{hook_id}",
    operation_id = "receive_webhook",
    tag = "calendly",
    params(("hook_id" = String, Path, description = "The subscription's id, from its URL")),
    request_body(content = serde_json::Value, content_type = "application/json", description = "Calendly's delivery: `{\"event\", \"created_at\", \"created_by\", \"payload\"}`, at most 64 KiB. Any JSON is read: a signed body the gateway cannot read is accepted and ignored."),
    responses((status = 200, description = "Accepted.", body = AcceptedBody))
)]
pub async fn receive(
    state: web::Data<AppState>,
    request: HttpRequest,
    hook_id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let metrics = request.app_data::<web::Data<Arc<Metrics>>>();
    let verdict = |event: &str, verdict: &'static str| {
        if let Some(metrics) = metrics {
            metrics.freshness.webhook(event, verdict);
        }
    };
    // Calendly never delivers nothing: an empty body is no delivery, whatever the hook.
    if body.is_empty() {
        verdict("none", "unreadable");
        return Err(ApiError::InvalidParameter(
            "A webhook delivery has a JSON body.".into(),
        ));
    }
    let Ok(hook_id) = HookId::parse(hook_id.into_inner()) else {
        verdict("none", "gone");
        return Err(GatewayError::HookNotFound.into());
    };
    let signature = request
        .headers()
        .get(SIGNATURE)
        .and_then(|value| value.to_str().ok());
    match state
        .service
        .receive_webhook(&hook_id, signature, &body)
        .await
    {
        Ok(receipt) => {
            match &receipt.event {
                Some(event) => verdict(event, "accepted"),
                None => verdict("none", "unreadable"),
            }
            Ok(HttpResponse::Ok().json(AcceptedBody { status: "accepted" }))
        }
        Err(error) => {
            let label = match &error {
                GatewayError::HookNotFound => "gone",
                GatewayError::InvalidSignature(_) => "invalid_signature",
                _ => "failed",
            };
            verdict("none", label);
            Err(error.into())
        }
    }
}
