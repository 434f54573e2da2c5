//! `/openapi.json`, generated from the handlers' annotations and the body types so that it cannot
//! drift from them, and `/docs`, Swagger UI over it with every asset compiled into the binary.

use std::sync::{Arc, LazyLock};

use actix_web::http::StatusCode;
use actix_web::http::header::{self, ContentType};
use actix_web::{HttpResponse, web};
use utoipa::openapi::path::Operation;
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, HeaderBuilder, OpenApi as Document, Ref, RefOr};
use utoipa::{Modify, OpenApi, ToSchema};
use utoipa_swagger_ui::Config;

use super::availability::{self, AvailableTime};
use super::calendar::{self, AvailabilitySchedule, BusyTime};
use super::user::{self, EventType};
use super::{bookings, connection, demo, health, metrics, oauth, slots, webhooks};
use crate::error::{
    CALENDLY_RATE_LIMITED, CALENDLY_SCOPE_MISSING, CALENDLY_TIMEOUT, CALENDLY_UNAVAILABLE,
    DATABASE_UNAVAILABLE, ErrorBody, ErrorKind, INVALID_CREDENTIALS, NOT_AUTHENTICATED,
    TOKEN_EXPIRED, status_error,
};

/// The name of the bearer security scheme in the document (the handlers' annotations spell it
/// out: utoipa takes only a literal there).
pub const BEARER: &str = "bearer";

#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "calendly-gateway",
        description = "Answers for a web application about its users' Calendly accounts: each user \
            connects their Calendly account once (a personal access token, or Calendly's OAuth \
            \"Connect\" flow), then asks who they are on Calendly, their event types and their \
            availability. Every `/calendly` endpoint but the OAuth callback and Calendly's webhook \
            deliveries needs `Authorization: Bearer <JWT>` (HS256, `sub` = the user id, `exp` \
            required). Every error is `{\"detail\": …, \"code\": …}`."
    ),
    paths(
        connection::connect,
        connection::status,
        connection::disconnect,
        oauth::start,
        oauth::complete,
        oauth::callback,
        user::user_uri,
        user::event_types,
        availability::check_availability,
        slots::slots,
        calendar::busy_times,
        calendar::availability_schedules,
        bookings::book,
        bookings::bookings,
        bookings::booking,
        bookings::cancel,
        webhooks::receive,
        demo::session,
        health::healthz,
        health::readyz,
        metrics::metrics,
        openapi_json,
        docs_page,
    ),
    components(schemas(ErrorBody, EventType, AvailableTime, BusyTime, AvailabilitySchedule)),
    modifiers(&BearerScheme, &ErrorResponses),
    tags(
        (name = "calendly", description = "The user's Calendly account: the original service's endpoints and the connection."),
        (name = "bookings", description = "Booking, listing and cancelling the user's bookings (the user is the host) through Calendly's Scheduling API."),
        (name = "operations", description = "For operators and tools."),
        (name = "demo", description = "The reference web client's sign-in: only while `demo.enabled` (local development; production refuses it)."),
    )
)]
pub struct ApiDoc;

/// The document, serialised once.
static DOCUMENT: LazyLock<String> = LazyLock::new(|| {
    ApiDoc::openapi()
        .to_json()
        .expect("the OpenAPI document serialises")
});

/// `GET /openapi.json`.
#[utoipa::path(
    get,
    path = "/openapi.json",
    operation_id = "openapi",
    summary = "This OpenAPI document",
    tag = "operations",
    responses((status = 200, description = "This OpenAPI 3 document.", content_type = "application/json", body = Object))
)]
pub async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok()
        .content_type(ContentType::json())
        .body(DOCUMENT.as_str())
}

/// Swagger UI's settings: it reads the document from `/openapi.json` and remembers a token.
static SWAGGER_CONFIG: LazyLock<Arc<Config<'static>>> = LazyLock::new(|| {
    Arc::new(
        Config::new(["/openapi.json"])
            .persist_authorization(true)
            .try_it_out_enabled(true),
    )
});

/// Swagger UI's page refers to its assets relatively; the base makes `/docs` (no slash) find them
/// under `/docs/`.
static DOCS_PAGE: LazyLock<String> = LazyLock::new(|| {
    let file = utoipa_swagger_ui::serve("index.html", Arc::clone(&SWAGGER_CONFIG))
        .ok()
        .flatten()
        .expect("Swagger UI's index.html is compiled in");
    String::from_utf8_lossy(&file.bytes)
        .replacen("<head>", r#"<head><base href="/docs/">"#, 1)
        .replacen(
            "<title>Swagger UI</title>",
            "<title>calendly-gateway API</title>",
            1,
        )
});

/// `GET /docs`: the interactive documentation.
#[utoipa::path(
    get,
    path = "/docs",
    operation_id = "docs",
    summary = "This interactive documentation",
    tag = "operations",
    responses((status = 200, description = "Swagger UI over `/openapi.json`; every asset is served by the gateway itself.", content_type = "text/html"))
)]
pub async fn docs_page() -> HttpResponse {
    HttpResponse::Ok()
        .content_type(ContentType::html())
        .body(DOCS_PAGE.as_str())
}

/// `GET /docs/{file}`: the page's assets.
pub async fn docs_asset(file: web::Path<String>) -> HttpResponse {
    let file = file.into_inner();
    if file.is_empty() || file == "index.html" {
        return docs_page().await;
    }
    match utoipa_swagger_ui::serve(&file, Arc::clone(&SWAGGER_CONFIG)) {
        Ok(Some(asset)) => HttpResponse::Ok()
            .content_type(asset.content_type)
            .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
            .body(asset.bytes.into_owned()),
        _ => status_error(StatusCode::NOT_FOUND, "Not Found"),
    }
}

/// Adds the bearer security scheme the `/calendly` operations refer to.
struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, document: &mut Document) {
        let components = document.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("HS256 access token issued by the application."))
                    .build(),
            ),
        );
    }
}

/// The errors of each operation, beyond those shared below: each handler's module lists its own.
const OPERATION_ERRORS: &[(&str, &[ErrorKind])] = &[
    ("connect", connection::CONNECT_ERRORS),
    ("connection", connection::STATUS_ERRORS),
    ("disconnect", &[]),
    ("oauth_start", oauth::START_ERRORS),
    ("oauth_complete", oauth::COMPLETE_ERRORS),
    ("oauth_callback", oauth::CALLBACK_ERRORS),
    ("user", user::USER_ERRORS),
    ("user_event_types", user::EVENT_TYPES_ERRORS),
    ("check_availability", availability::ERRORS),
    ("slots", slots::ERRORS),
    ("busy_times", calendar::BUSY_TIMES_ERRORS),
    ("availability_schedules", calendar::SCHEDULES_ERRORS),
    ("book", bookings::BOOK_ERRORS),
    ("bookings", bookings::LIST_ERRORS),
    ("booking", bookings::READ_ERRORS),
    ("cancel_booking", bookings::CANCEL_ERRORS),
    ("receive_webhook", webhooks::ERRORS),
    ("demo_session", demo::SESSION_ERRORS),
    ("readyz", &[DATABASE_UNAVAILABLE]),
];

/// Errors of every operation that calls Calendly.
const UPSTREAM: &[ErrorKind] = &[
    CALENDLY_SCOPE_MISSING,
    CALENDLY_RATE_LIMITED,
    CALENDLY_UNAVAILABLE,
    CALENDLY_TIMEOUT,
];

/// Operations that call Calendly.
const CALLS_CALENDLY: &[&str] = &[
    "connect",
    "oauth_complete",
    "user_event_types",
    "check_availability",
    "slots",
    "busy_times",
    "availability_schedules",
    "book",
    "bookings",
    "booking",
    "cancel_booking",
];

/// Errors of every operation behind the bearer token.
const AUTHENTICATED: &[ErrorKind] = &[
    NOT_AUTHENTICATED,
    INVALID_CREDENTIALS,
    TOKEN_EXPIRED,
    DATABASE_UNAVAILABLE,
];

/// Adds each operation's errors, with the error body, to every operation.
struct ErrorResponses;

impl Modify for ErrorResponses {
    fn modify(&self, document: &mut Document) {
        for item in document.paths.paths.values_mut() {
            for operation in [
                item.get.as_mut(),
                item.put.as_mut(),
                item.post.as_mut(),
                item.delete.as_mut(),
            ]
            .into_iter()
            .flatten()
            {
                add_errors(operation);
            }
        }
    }
}

/// Every error kind `operation` may answer with.
fn errors_of(operation: &Operation) -> Vec<ErrorKind> {
    let id = operation.operation_id.as_deref().unwrap_or_default();
    let authenticated = operation
        .security
        .as_ref()
        .is_some_and(|requirements| !requirements.is_empty());
    let own = OPERATION_ERRORS
        .iter()
        .find(|(name, _)| *name == id)
        .map_or(&[][..], |(_, errors)| *errors);
    let upstream = if CALLS_CALENDLY.contains(&id) {
        UPSTREAM
    } else {
        &[]
    };
    let shared = if authenticated { AUTHENTICATED } else { &[] };
    let mut kinds: Vec<ErrorKind> = Vec::new();
    for kind in own.iter().chain(upstream).chain(shared) {
        if !kinds.contains(kind) {
            kinds.push(*kind);
        }
    }
    kinds
}

/// One response per status, its description naming each kind of error behind it.
fn add_errors(operation: &mut Operation) {
    let kinds = errors_of(operation);
    let mut statuses: Vec<u16> = kinds.iter().map(|k| k.status.as_u16()).collect();
    statuses.sort_unstable();
    statuses.dedup();
    for status in statuses {
        let description = kinds
            .iter()
            .filter(|kind| kind.status.as_u16() == status)
            .map(|kind| format!("`{}`: {}.", kind.code, kind.meaning))
            .collect::<Vec<_>>()
            .join(" ");
        operation.responses.responses.insert(
            status.to_string(),
            RefOr::T(error_response(
                status,
                &description,
                kinds.contains(&NOT_AUTHENTICATED),
            )),
        );
    }
}

fn error_response(status: u16, description: &str, bearer: bool) -> Response {
    let mut response = ResponseBuilder::new().description(description).content(
        "application/json",
        ContentBuilder::new()
            .schema(Some(Ref::from_schema_name(ErrorBody::name())))
            .build(),
    );
    let string = || ObjectBuilder::new().schema_type(Type::String).build();
    response = match status {
        401 if bearer => response.header(
            "WWW-Authenticate",
            HeaderBuilder::new()
                .schema(string())
                .description(Some("`Bearer`"))
                .build(),
        ),
        429 => response.header(
            "Retry-After",
            HeaderBuilder::new()
                .schema(
                    ObjectBuilder::new()
                        .schema_type(Type::Integer)
                        .minimum(Some(0)),
                )
                .description(Some("Seconds until Calendly accepts calls again."))
                .build(),
        ),
        _ => response,
    };
    response.build()
}
