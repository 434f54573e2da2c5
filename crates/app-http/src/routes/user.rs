//! Who the user is on Calendly, and their event types: the original wire format.

use actix_web::{HttpResponse, web};

use super::docs::EventType;
use super::raw_json::json_list;
use crate::auth::AuthenticatedUser;
use crate::error::ApiError;
use crate::state::AppState;

/// `GET /calendly/user`: the user's Calendly URI as a JSON string.
#[utoipa::path(
    get,
    path = "/calendly/user",
    operation_id = "user",
    summary = "Who the user is on Calendly: their Calendly URI, as a JSON string",
    tag = "calendly",
    security(("bearer" = [])),
    responses((status = 200, description = "The user's Calendly URI, as a JSON string.", content_type = "application/json", body = String, example = json!("https://api.calendly.com/users/AAAAAAAAAAAAAAAA")))
)]
pub async fn user_uri(
    state: web::Data<AppState>,
    AuthenticatedUser(user_id): AuthenticatedUser,
) -> Result<HttpResponse, ApiError> {
    let uri = state.service.user_uri(&user_id).await?;
    Ok(HttpResponse::Ok().json(uri.as_str()))
}

/// `GET /calendly/user-event-types`: every event type, each as Calendly wrote it.
#[utoipa::path(
    get,
    path = "/calendly/user-event-types",
    operation_id = "user_event_types",
    summary = "The user's event types, each as Calendly returned it",
    tag = "calendly",
    security(("bearer" = [])),
    responses((status = 200, description = "Every event type of the user, every page, each as Calendly returned it.", body = [EventType]))
)]
pub async fn event_types(
    state: web::Data<AppState>,
    AuthenticatedUser(user_id): AuthenticatedUser,
) -> Result<HttpResponse, ApiError> {
    let event_types = state.service.event_types(&user_id).await?;
    Ok(json_list("", event_types.iter().map(|e| &e.json), ""))
}
