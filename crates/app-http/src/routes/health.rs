//! Liveness and readiness.

use std::time::Duration;

use actix_web::{HttpResponse, web};
use domain::{GatewayError, RepositoryError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::state::AppState;

const READINESS_DEADLINE: Duration = Duration::from_secs(2);

/// `{"status": …}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Status {
    #[schema(example = "ok")]
    status: &'static str,
}

/// 200 while the process runs.
#[utoipa::path(
    get,
    path = "/healthz",
    operation_id = "healthz",
    summary = "Liveness: 200 while the process runs",
    tag = "operations",
    responses((status = 200, description = "The process runs.", body = Status, example = json!({"status": "ok"})))
)]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Status { status: "ok" })
}

/// 200 when the database answers within the deadline, else 503 `database_unavailable`.
#[utoipa::path(
    get,
    path = "/readyz",
    operation_id = "readyz",
    summary = "Readiness: 200 when the database answers, else 503",
    tag = "operations",
    responses((status = 200, description = "The database answers.", body = Status, example = json!({"status": "ready"})))
)]
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let answer = tokio::time::timeout(READINESS_DEADLINE, state.tokens.ping())
        .await
        .unwrap_or_else(|_| Err(RepositoryError::Unavailable("no answer in time".into())));
    match answer {
        Ok(()) => Ok(HttpResponse::Ok().json(Status { status: "ready" })),
        Err(RepositoryError::Unexpected(error)) => Err(ApiError::Gateway(
            GatewayError::Repository(RepositoryError::Unavailable(error.to_string())),
        )),
        Err(error) => Err(ApiError::Gateway(GatewayError::Repository(error))),
    }
}
