//! Who the user is on Calendly, and their event types: the original wire format.

use actix_web::{HttpResponse, web};

use utoipa::openapi::schema::SchemaFormat;
use utoipa::openapi::{RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};

use super::raw_json::{calendly_object, json_list};
use crate::auth::AuthenticatedUser;
use crate::error::{
    ApiError, CALENDLY_BAD_ARGUMENT, CALENDLY_CONFLICT, CALENDLY_FORBIDDEN, CALENDLY_NOT_CONNECTED,
    CALENDLY_NOT_FOUND, CALENDLY_REAUTH_REQUIRED, ErrorKind,
};
use crate::state::AppState;

/// The errors of `GET /calendly/user`, beyond those of every authenticated operation.
pub const USER_ERRORS: &[ErrorKind] = &[CALENDLY_NOT_CONNECTED, CALENDLY_REAUTH_REQUIRED];

/// The errors of `GET /calendly/user-event-types`, beyond those of every authenticated
/// operation that calls Calendly.
pub const EVENT_TYPES_ERRORS: &[ErrorKind] = &[
    CALENDLY_NOT_CONNECTED,
    CALENDLY_REAUTH_REQUIRED,
    CALENDLY_BAD_ARGUMENT,
    CALENDLY_FORBIDDEN,
    CALENDLY_NOT_FOUND,
    CALENDLY_CONFLICT,
];

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

/// A Calendly event type, passed on as Calendly wrote it: every field kept, including those
/// this schema does not name.
#[derive(Debug)]
pub struct EventType;

impl PartialSchema for EventType {
    fn schema() -> RefOr<Schema> {
        calendly_object(
            "A Calendly event type as Calendly returned it; fields beyond those named here are kept.",
            &[("uri", Some(SchemaFormat::Custom("uri".into())))],
            &["name", "scheduling_url", "slug", "kind", "type"],
        )
    }
}

impl ToSchema for EventType {}
