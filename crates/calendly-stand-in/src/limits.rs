//! Calendly's rate limit: each user may make `--rate-limit-per-minute` calls a minute (a
//! fixed window from the user's first call in it). Every answer of the API carries
//! `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset` (seconds until the
//! window resets); past the limit, Calendly's 429 is answered without reaching the endpoint.

use std::sync::atomic::Ordering;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpResponse, web};
use serde_json::json;

use crate::auth::user_of;
use crate::state::StandIn;

/// Middleware over the API's endpoints (not OAuth's, the stats' or the admin's).
pub(crate) async fn limited(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let path = request.path();
    // Bookings are limited apart, with headers of their own (see `invitees`).
    let exempt = path.starts_with("/oauth")
        || path.starts_with("/stats")
        || path.starts_with("/admin")
        || path == "/invitees";
    let state = request.app_data::<web::Data<StandIn>>().cloned();
    let user = state
        .as_ref()
        .filter(|_| !exempt)
        .and_then(|state| user_of(request.request(), state).ok());
    let (Some(state), Some(user)) = (state, user) else {
        return Ok(next.call(request).await?.map_into_boxed_body());
    };
    let limit = &state.limit;
    let (left, reset) = limit.count(&user);
    let mut response = match left {
        Some(_) => next.call(request).await?.map_into_boxed_body(),
        None => {
            limit.refused.fetch_add(1, Ordering::Relaxed);
            let refusal = HttpResponse::TooManyRequests().json(json!({
                "title": "Too Many Requests",
                "message": "You have exceeded the rate limit. Please try again later."
            }));
            request.into_response(refusal)
        }
    };
    let headers = response.headers_mut();
    for (name, value) in [
        ("x-ratelimit-limit", u64::from(limit.per_minute)),
        ("x-ratelimit-remaining", u64::from(left.unwrap_or(0))),
        ("x-ratelimit-reset", reset),
    ] {
        headers.insert(HeaderName::from_static(name), HeaderValue::from(value));
    }
    Ok(response)
}
