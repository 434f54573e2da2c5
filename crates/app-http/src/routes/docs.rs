//! `/openapi.json`, generated from the handlers' annotations and the body types so that it cannot
//! drift from them, and `/docs`, Swagger UI over it with every asset compiled into the binary.

use std::sync::{Arc, LazyLock};

use actix_web::http::StatusCode;
use actix_web::http::header::{self, ContentType};
use actix_web::{HttpResponse, web};
use utoipa::openapi::path::Operation;
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{
    AdditionalProperties, ObjectBuilder, SchemaFormat, SchemaType, Type,
};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, HeaderBuilder, OpenApi as Document, Ref, RefOr, Schema};
use utoipa::{Modify, OpenApi, PartialSchema, ToSchema};
use utoipa_swagger_ui::Config;

use super::{availability, connection, health, metrics, user};
use crate::error::{ErrorBody, status_error};

/// The name of the bearer security scheme in the document (the handlers' annotations spell it
/// out: utoipa takes only a literal there).
pub const BEARER: &str = "bearer";

#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "calendly-gateway",
        description = "Answers for a web application about its users' Calendly accounts: each user \
            connects a Calendly personal access token once, then asks who they are on Calendly, \
            their event types and their availability. Every `/calendly` endpoint needs \
            `Authorization: Bearer <JWT>` (HS256, `sub` = the user id, `exp` required). Every error \
            is `{\"detail\": …, \"code\": …}`."
    ),
    paths(
        connection::connect,
        connection::status,
        connection::disconnect,
        user::user_uri,
        user::event_types,
        availability::check_availability,
        health::healthz,
        health::readyz,
        metrics::metrics,
        openapi_json,
        docs_page,
    ),
    components(schemas(ErrorBody, EventType, AvailableTime)),
    modifiers(&BearerScheme, &ErrorResponses),
    tags(
        (name = "calendly", description = "The user's Calendly account: the original service's endpoints and the connection."),
        (name = "operations", description = "For operators and tools."),
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

/// The error statuses of each operation. They are the same error body each time, so they are
/// listed here once rather than in every handler's annotation.
const ERRORS: &[(&str, &[(u16, &str)])] = &[
    (
        "connect",
        &[
            (
                400,
                "The body is not JSON, not an object, or the token is not a string (`invalid_parameter`); or Calendly refused the call (`calendly_error`).",
            ),
            (403, "Calendly refused the call (`calendly_error`)."),
            (404, "Calendly refused the call (`calendly_error`)."),
            (409, "Calendly refused the call (`calendly_error`)."),
            (413, "The body is over 16 KiB (`payload_too_large`)."),
            (
                422,
                "`personal_access_token` is missing (`missing_parameter`), or Calendly does not accept it (`calendly_token_invalid`).",
            ),
        ],
    ),
    (
        "connection",
        &[
            (
                404,
                "No Calendly connection for the user (`calendly_not_connected`).",
            ),
            (
                424,
                "The stored credential can no longer be used; connect again (`calendly_reauth_required`).",
            ),
        ],
    ),
    ("disconnect", &[]),
    (
        "user",
        &[
            (
                404,
                "No Calendly connection for the user (`calendly_not_connected`).",
            ),
            (
                424,
                "The stored credential can no longer be used; connect again (`calendly_reauth_required`).",
            ),
        ],
    ),
    (
        "user_event_types",
        &[
            (400, "Calendly refused the call (`calendly_error`)."),
            (403, "Calendly refused the call (`calendly_error`)."),
            (
                404,
                "No Calendly connection for the user (`calendly_not_connected`), or Calendly refused the call (`calendly_error`).",
            ),
            (409, "Calendly refused the call (`calendly_error`)."),
            (
                424,
                "Calendly no longer accepts the stored token, or it can no longer be decrypted; connect again (`calendly_reauth_required`).",
            ),
        ],
    ),
    (
        "check_availability",
        &[
            (
                400,
                "An unparseable time or event type, `end_time` not after `start_time`, a range over `limits.max_range_days` (`invalid_parameter`); or Calendly refused the call (`calendly_error`).",
            ),
            (403, "Calendly refused the call (`calendly_error`)."),
            (
                404,
                "No Calendly connection (`calendly_not_connected`), no event types (`no_event_types`), `event_type` not one of the user's (`event_type_not_found`), or Calendly refused the call (`calendly_error`).",
            ),
            (409, "Calendly refused the call (`calendly_error`)."),
            (414, "The query string is too long (`uri_too_long`)."),
            (
                422,
                "`start_time` or `end_time` is missing (`missing_parameter`).",
            ),
            (
                424,
                "Calendly no longer accepts the stored token, or it can no longer be decrypted; connect again (`calendly_reauth_required`).",
            ),
        ],
    ),
    (
        "readyz",
        &[(
            503,
            "The database does not answer (`database_unavailable`).",
        )],
    ),
];

/// Statuses every operation that calls Calendly may answer.
const UPSTREAM: &[(u16, &str)] = &[
    (
        429,
        "Calendly's rate limit was reached (`calendly_rate_limited`); `Retry-After` says when to retry.",
    ),
    (
        502,
        "Calendly failed or answered in a way the gateway cannot use (`calendly_unavailable`).",
    ),
    (
        504,
        "Calendly did not answer within `calendly.timeout_ms` (`calendly_timeout`).",
    ),
];

/// Operations that call Calendly.
const CALLS_CALENDLY: &[&str] = &["connect", "user_event_types", "check_availability"];

/// Statuses of every operation behind the bearer token.
const AUTHENTICATED: &[(u16, &str)] = &[
    (
        401,
        "No bearer token (`not_authenticated`), or one that is malformed, expired or badly signed (`invalid_credentials`, `token_expired`).",
    ),
    (
        503,
        "The database is unavailable (`database_unavailable`); retry shortly.",
    ),
];

/// Adds [`ERRORS`], and the statuses of authenticated and Calendly-calling operations, to every
/// operation, each with the error body.
struct ErrorResponses;

impl Modify for ErrorResponses {
    fn modify(&self, document: &mut Document) {
        for item in document.paths.paths.values_mut() {
            for operation in [item.get.as_mut(), item.put.as_mut(), item.delete.as_mut()]
                .into_iter()
                .flatten()
            {
                add_errors(operation);
            }
        }
    }
}

fn add_errors(operation: &mut Operation) {
    let id = operation.operation_id.clone().unwrap_or_default();
    let authenticated = operation
        .security
        .as_ref()
        .is_some_and(|requirements| !requirements.is_empty());
    let own = ERRORS
        .iter()
        .find(|(name, _)| *name == id)
        .map_or(&[][..], |(_, errors)| *errors);
    let upstream = if CALLS_CALENDLY.contains(&id.as_str()) {
        UPSTREAM
    } else {
        &[]
    };
    let shared = if authenticated { AUTHENTICATED } else { &[] };
    let mut errors: Vec<(u16, &str)> = own.iter().chain(upstream).chain(shared).copied().collect();
    errors.sort_by_key(|(status, _)| *status);
    for (status, description) in errors {
        operation.responses.responses.insert(
            status.to_string(),
            RefOr::T(error_response(status, description)),
        );
    }
}

fn error_response(status: u16, description: &str) -> Response {
    let mut response = ResponseBuilder::new().description(description).content(
        "application/json",
        ContentBuilder::new()
            .schema(Some(Ref::from_schema_name(ErrorBody::name())))
            .build(),
    );
    let string = || ObjectBuilder::new().schema_type(Type::String).build();
    response = match status {
        401 => response.header(
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

/// A Calendly available time, passed on as Calendly wrote it.
#[derive(Debug)]
pub struct AvailableTime;

impl PartialSchema for AvailableTime {
    fn schema() -> RefOr<Schema> {
        calendly_object(
            "A Calendly available time as Calendly returned it; fields beyond those named here are kept.",
            &[(
                "start_time",
                Some(SchemaFormat::KnownFormat(
                    utoipa::openapi::KnownFormat::DateTime,
                )),
            )],
            &["status", "scheduling_url"],
        )
    }
}

impl ToSchema for AvailableTime {}

/// An object with `required` string properties, optional `nullable` string properties, and any
/// other property allowed.
fn calendly_object(
    description: &str,
    required: &[(&str, Option<SchemaFormat>)],
    nullable: &[&str],
) -> RefOr<Schema> {
    let mut object = ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some(description))
        .additional_properties(Some(AdditionalProperties::FreeForm(true)));
    for (name, format) in required {
        object = object
            .property(
                *name,
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .format(format.clone()),
            )
            .required(*name);
    }
    for name in nullable {
        object = object.property(
            *name,
            ObjectBuilder::new().schema_type(SchemaType::from_iter([Type::String, Type::Null])),
        );
    }
    RefOr::T(Schema::Object(object.build()))
}
