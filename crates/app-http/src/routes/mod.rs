//! The HTTP surface: which path and method reach which handler, and JSON for whatever the
//! framework itself rejects.

mod availability;
mod bookings;
mod calendar;
mod connection;
pub mod demo;
pub mod docs;
mod health;
mod json_body;
mod metrics;
mod oauth;
mod raw_json;
mod slots;
mod user;
pub(crate) mod webhooks;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::{ErrorHandlerResponse, Next};
use actix_web::{Error, HttpResponse, Resource, Route, web};

use crate::error::{ApiError, status_error};

/// Largest body accepted (`PUT /calendly/connection`); a token is far smaller.
pub const MAX_BODY_BYTES: usize = 16 * 1024;
/// Longest path and query accepted.
pub const MAX_URI_BYTES: usize = 8 * 1024;
/// Most header bytes (names and values) accepted. Both limits are well under actix's own
/// (a 128 KiB request head, 96 headers), which answers without a body.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

/// `path` and `path/`, each a resource of its own built by `build`: a resource of several
/// paths is matched by regular expression, on every request that reaches it, where a single
/// static path is a string comparison.
fn with_and_without_slash(
    config: &mut web::ServiceConfig,
    path: &str,
    build: impl Fn(Resource) -> Resource,
) {
    config
        .service(build(web::resource(path)))
        .service(build(web::resource(format!("{path}/"))));
}

/// A GET-only `path` (and `path/`), answered by the route `route` makes.
fn get(config: &mut web::ServiceConfig, path: &str, route: fn() -> Route) {
    with_and_without_slash(config, path, |resource| {
        resource
            .route(route())
            .default_service(web::to(|| method_not_allowed("GET")))
    });
}

/// A GET-only resource at exactly `path` (no second one with a slash), answered by the route
/// `route` makes.
fn get_exactly(config: &mut web::ServiceConfig, path: &str, route: fn() -> Route) {
    config.service(
        web::resource(path)
            .route(route())
            .default_service(web::to(|| method_not_allowed("GET"))),
    );
}

/// Each resource answers with or without a trailing slash, as FastAPI's router did. Routes are
/// tried in order: the busiest first, and those with a variable part (matched by regular
/// expression) last. `demo` (only while `demo.enabled`) adds the web client at `/demo/`.
pub fn configure(config: &mut web::ServiceConfig, demo: Option<&web::Data<demo::DemoSessions>>) {
    config
        .app_data(web::QueryConfig::default().error_handler(|error, _| {
            ApiError::InvalidParameter(format!("Query string not understood: {error}.")).into()
        }))
        .app_data(web::PayloadConfig::new(MAX_BODY_BYTES));
    get(config, "/calendly/check-availability", || {
        web::get().to(availability::check_availability)
    });
    get(config, "/calendly/slots", || web::get().to(slots::slots));
    get(config, "/calendly/busy-times", || {
        web::get().to(calendar::busy_times)
    });
    get(config, "/calendly/user-event-types", || {
        web::get().to(user::event_types)
    });
    get(config, "/calendly/user", || web::get().to(user::user_uri));
    get(config, "/calendly/availability-schedules", || {
        web::get().to(calendar::availability_schedules)
    });
    with_and_without_slash(config, "/calendly/connection", |resource| {
        resource
            .route(web::put().to(connection::connect))
            .route(web::get().to(connection::status))
            .route(web::delete().to(connection::disconnect))
            .default_service(web::to(|| method_not_allowed("GET, PUT, DELETE")))
    });
    with_and_without_slash(config, "/calendly/oauth/start", |resource| {
        resource
            .route(web::post().to(oauth::start))
            .default_service(web::to(|| method_not_allowed("POST")))
    });
    with_and_without_slash(config, "/calendly/oauth/complete", |resource| {
        resource
            .route(web::post().to(oauth::complete))
            .default_service(web::to(|| method_not_allowed("POST")))
    });
    with_and_without_slash(config, "/calendly/bookings", |resource| {
        resource
            .app_data(web::PayloadConfig::new(bookings::MAX_BOOKING_BYTES))
            .route(web::post().to(bookings::book))
            .route(web::get().to(bookings::bookings))
            .default_service(web::to(|| method_not_allowed("GET, POST")))
    });
    get(config, "/calendly/oauth/callback", || {
        web::get().to(oauth::callback)
    });
    get(config, "/healthz", || web::get().to(health::healthz));
    get(config, "/readyz", || web::get().to(health::readyz));
    get(config, "/metrics", || web::get().to(metrics::metrics));
    get_exactly(config, "/openapi.json", || {
        web::get().to(docs::openapi_json)
    });
    get_exactly(config, "/docs", || web::get().to(docs::docs_page));
    with_and_without_slash(config, "/calendly/bookings/{uuid}", |resource| {
        resource
            .route(web::get().to(bookings::booking))
            .default_service(web::to(|| method_not_allowed("GET")))
    });
    with_and_without_slash(
        config,
        "/calendly/bookings/{uuid}/cancellation",
        |resource| {
            resource
                .route(web::post().to(bookings::cancel))
                .default_service(web::to(|| method_not_allowed("POST")))
        },
    );
    with_and_without_slash(config, "/calendly/webhooks/{hook_id}", |resource| {
        resource
            .app_data(web::PayloadConfig::new(webhooks::MAX_DELIVERY_BYTES))
            .route(web::post().to(webhooks::receive))
            .default_service(web::to(|| method_not_allowed("POST")))
    });
    if let Some(sessions) = demo {
        config.service(
            web::resource("/demo/session")
                .app_data(web::Data::clone(sessions))
                .route(web::post().to(demo::session))
                .default_service(web::to(|| method_not_allowed("POST"))),
        );
        get_exactly(config, "/demo", || web::get().to(demo::to_the_client));
        get_exactly(config, "/demo/{file:.*}", || {
            web::get().to(demo::client_file)
        });
    }
    get_exactly(config, "/docs/{file:.*}", || {
        web::get().to(docs::docs_asset)
    });
    config.default_service(web::to(not_found));
}

/// Middleware: refuses an over-long path and query (414) or over-large headers (431) with the
/// JSON error body, before any routing.
pub async fn limit_request_head(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let uri_bytes = request
        .uri()
        .path_and_query()
        .map_or(0, |p| p.as_str().len());
    let header_bytes: usize = request
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    let refusal = if uri_bytes > MAX_URI_BYTES {
        Some(status_error(
            StatusCode::URI_TOO_LONG,
            &format!("The path and query string are over {MAX_URI_BYTES} bytes."),
        ))
    } else if header_bytes > MAX_HEADER_BYTES {
        Some(status_error(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            &format!("The request headers are over {MAX_HEADER_BYTES} bytes."),
        ))
    } else {
        None
    };
    match refusal {
        Some(response) => Ok(request.into_response(response).map_into_right_body()),
        None => Ok(next.call(request).await?.map_into_left_body()),
    }
}

async fn not_found() -> HttpResponse {
    status_error(StatusCode::NOT_FOUND, "Not Found")
}

async fn method_not_allowed(allow: &'static str) -> HttpResponse {
    let mut response = status_error(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed");
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(allow));
    response
}

/// Turns any error response that is not JSON already (a payload the framework refused, a
/// panic caught by actix) into the JSON error body, keeping its status and headers.
pub fn json_error_body<B>(
    response: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        return Ok(ErrorHandlerResponse::Response(
            response.map_into_left_body(),
        ));
    }
    let (request, original) = response.into_parts();
    let status = original.status();
    let detail = status.canonical_reason().unwrap_or("Error");
    let mut replacement = status_error(status, detail);
    for (name, value) in original.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            replacement
                .headers_mut()
                .insert(name.clone(), value.clone());
        }
    }
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(request, replacement).map_into_right_body(),
    ))
}
