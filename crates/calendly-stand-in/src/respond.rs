//! Answers as Calendly writes them.

use actix_web::HttpResponse;
use serde_json::json;

/// Calendly's API base, in every URI the stand-in writes.
pub(crate) const API: &str = "https://api.calendly.com";

/// Calendly's error body with `status`.
pub(crate) fn error(status: u16, title: &str, message: &str) -> HttpResponse {
    let status = actix_web::http::StatusCode::from_u16(status)
        .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR);
    HttpResponse::build(status).json(json!({ "title": title, "message": message }))
}

/// 400 naming the parameter, as Calendly.
pub(crate) fn invalid_argument(parameter: &str, message: &str) -> HttpResponse {
    HttpResponse::BadRequest().json(json!({
        "title": "Invalid Argument",
        "message": "The supplied parameters are invalid.",
        "details": [{ "parameter": parameter, "message": message }]
    }))
}
