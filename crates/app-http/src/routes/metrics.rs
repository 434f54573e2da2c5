//! `GET /metrics`: the Prometheus text exposition.

use std::sync::Arc;

use actix_web::{HttpResponse, web};

use crate::metrics::Metrics;

/// The text format prometheus-client writes: OpenMetrics, which Prometheus reads (`# EOF` at the
/// end, counters' samples named `…_total`).
const OPENMETRICS_TEXT: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// `GET /metrics`.
#[utoipa::path(
    get,
    path = "/metrics",
    operation_id = "metrics",
    summary = "Metrics for Prometheus (OpenMetrics text)",
    tag = "operations",
    responses((status = 200, description = "Requests by route and status, Calendly calls by endpoint and status, database pool figures.", content_type = "application/openmetrics-text", body = String))
)]
pub async fn metrics(metrics: web::Data<Arc<Metrics>>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(OPENMETRICS_TEXT)
        .body(metrics.render())
}
