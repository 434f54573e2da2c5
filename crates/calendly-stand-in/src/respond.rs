//! Answers as Calendly writes them.

use std::future::Future;

use actix_web::HttpResponse;
use serde_json::{Value, json};

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

/// What `answer` gives, a refusal as much as a success.
pub(crate) async fn answered(
    answer: impl Future<Output = Result<HttpResponse, HttpResponse>>,
) -> HttpResponse {
    answer.await.unwrap_or_else(|refusal| refusal)
}

/// A list's `count` (1–100, 20 by default) and where `page_token` starts it: (offset, count),
/// or Calendly's 400.
pub(crate) fn paging(
    count: Option<usize>,
    page_token: Option<&str>,
) -> Result<(usize, usize), HttpResponse> {
    let count = count.unwrap_or(20);
    if !(1..=100).contains(&count) {
        return Err(invalid_argument("count", "must be between 1 and 100"));
    }
    let offset = match page_token.map(str::parse::<usize>) {
        None => 0,
        Some(Ok(offset)) => offset,
        Some(Err(_)) => return Err(invalid_argument("page_token", "is invalid")),
    };
    Ok((offset, count))
}

/// The `pagination` of a page of `count` items, followed by `next` if any.
pub(crate) fn page_of(count: usize, next: Option<String>) -> Value {
    json!({
        "count": count, "next_page": null, "previous_page": null,
        "next_page_token": next, "previous_page_token": null
    })
}
