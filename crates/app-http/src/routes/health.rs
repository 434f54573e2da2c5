//! Liveness and readiness.

use std::time::Duration;

use actix_web::{HttpResponse, web};
use domain::{GatewayError, RepositoryError};
use serde_json::json;

use crate::error::ApiError;
use crate::state::AppState;

const READINESS_DEADLINE: Duration = Duration::from_secs(2);

/// 200 while the process runs.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// 200 when the database answers within the deadline, else 503 `database_unavailable`.
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let answer = tokio::time::timeout(READINESS_DEADLINE, state.tokens.ping())
        .await
        .unwrap_or_else(|_| Err(RepositoryError::Unavailable("no answer in time".into())));
    match answer {
        Ok(()) => Ok(HttpResponse::Ok().json(json!({ "status": "ready" }))),
        Err(RepositoryError::Unexpected(error)) => Err(ApiError::Gateway(
            GatewayError::Repository(RepositoryError::Unavailable(error.to_string())),
        )),
        Err(error) => Err(ApiError::Gateway(GatewayError::Repository(error))),
    }
}
