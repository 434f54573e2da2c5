//! Booking with the user as host: `POST` and `GET /calendly/bookings`,
//! `GET /calendly/bookings/{uuid}`, `POST /calendly/bookings/{uuid}/cancellation`.

mod body;
pub mod written;

use std::sync::Arc;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use domain::booking::{BookingId, BookingStatus, BookingsQuery, Email, IdempotencyKey};
use serde::Deserialize;

use super::availability::required_times;
use super::json_body::{object_from, string_field};
use crate::auth::AuthenticatedUser;
use crate::error::{
    ApiError, BOOKING_ALREADY_CANCELED, BOOKING_NOT_FOUND, CALENDLY_BAD_ARGUMENT,
    CALENDLY_NOT_CONNECTED, CALENDLY_REAUTH_REQUIRED, EVENT_TYPE_INACTIVE, EVENT_TYPE_NOT_FOUND,
    ErrorKind, IDEMPOTENCY_KEY_REUSED, INVALID_PARAMETER, MISSING_PARAMETER, PAYLOAD_TOO_LARGE,
    REQUEST_IN_PROGRESS, SLOT_UNAVAILABLE,
};
use crate::metrics::Metrics;
use crate::state::AppState;
use written::{BookingBody, BookingsBody};

/// Largest booking body accepted.
pub const MAX_BOOKING_BYTES: usize = 64 * 1024;

/// The errors of `POST /calendly/bookings`, beyond those of every authenticated operation
/// that calls Calendly.
pub const BOOK_ERRORS: &[ErrorKind] = &[
    INVALID_PARAMETER,
    MISSING_PARAMETER,
    PAYLOAD_TOO_LARGE,
    CALENDLY_NOT_CONNECTED,
    CALENDLY_REAUTH_REQUIRED,
    EVENT_TYPE_NOT_FOUND,
    EVENT_TYPE_INACTIVE,
    SLOT_UNAVAILABLE,
    IDEMPOTENCY_KEY_REUSED,
    REQUEST_IN_PROGRESS,
    CALENDLY_BAD_ARGUMENT,
];

/// The errors of listing bookings.
pub const LIST_ERRORS: &[ErrorKind] = &[
    INVALID_PARAMETER,
    MISSING_PARAMETER,
    CALENDLY_NOT_CONNECTED,
    CALENDLY_REAUTH_REQUIRED,
];

/// The errors of reading one booking.
pub const READ_ERRORS: &[ErrorKind] = &[
    BOOKING_NOT_FOUND,
    CALENDLY_NOT_CONNECTED,
    CALENDLY_REAUTH_REQUIRED,
];

/// The errors of cancelling a booking.
pub const CANCEL_ERRORS: &[ErrorKind] = &[
    INVALID_PARAMETER,
    PAYLOAD_TOO_LARGE,
    BOOKING_NOT_FOUND,
    BOOKING_ALREADY_CANCELED,
    CALENDLY_NOT_CONNECTED,
    CALENDLY_REAUTH_REQUIRED,
];

/// The header saying a booking was answered again for its idempotency key.
const REPLAYED: &str = "Idempotent-Replayed";

/// The header carrying a booking's idempotency key.
const IDEMPOTENCY_KEY: &str = "Idempotency-Key";

/// The request's idempotency key, when it sent one.
fn idempotency_key(request: &HttpRequest) -> Result<Option<IdempotencyKey>, ApiError> {
    let Some(value) = request.headers().get(IDEMPOTENCY_KEY) else {
        return Ok(None);
    };
    let text = value.to_str().map_err(|_| {
        ApiError::InvalidParameter(format!("{IDEMPOTENCY_KEY} must be visible ASCII."))
    })?;
    IdempotencyKey::parse(text)
        .map(Some)
        .map_err(|e| ApiError::InvalidParameter(format!("{IDEMPOTENCY_KEY} {e}.")))
}

/// A booking id from the path; one that cannot be Calendly's is no booking of the user.
fn booking_id(uuid: &str) -> Result<BookingId, ApiError> {
    BookingId::parse(uuid).map_err(|_| ApiError::Gateway(domain::GatewayError::BookingNotFound))
}

/// Books one of the user's available times for an invitee.
#[utoipa::path(
    post,
    path = "/calendly/bookings",
    operation_id = "book",
    tag = "bookings",
    security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "At most 255 characters. The same key with the same body within 24 hours answers what the first answered, without booking again; with another body, 422 `idempotency_key_reused`; while the first runs, 409 `request_in_progress`.")),
    request_body(content = written::BookingRequestBody, content_type = "application/json"),
    responses((status = 201, description = "Booked (or, for a key used before with this body, the booking it made). `Location` is the booking's path.", body = BookingBody))
)]
pub async fn book(
    state: web::Data<AppState>,
    AuthenticatedUser(user_id): AuthenticatedUser,
    request: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let answered = booked(&state, &user_id, &request, &body).await;
    observe(&request, "book", &answered);
    answered
}

/// Counts a booking's or cancellation's outcome (`/metrics`: `bookings_total`).
fn observe(request: &HttpRequest, action: &'static str, answer: &Result<HttpResponse, ApiError>) {
    if let Some(metrics) = request.app_data::<web::Data<Arc<Metrics>>>() {
        let outcome = match answer {
            Ok(response) if response.headers().contains_key(REPLAYED) => "replayed",
            Ok(_) if action == "book" => "booked",
            Ok(_) => "canceled",
            Err(error) => error.code(),
        };
        metrics.observe_booking(action, outcome);
    }
}

async fn booked(
    state: &AppState,
    user_id: &domain::UserId,
    request: &HttpRequest,
    body: &[u8],
) -> Result<HttpResponse, ApiError> {
    let key = idempotency_key(request)?;
    let asked = body::booking_request(body)?;
    let booked = state.service.book(user_id, key.as_ref(), &asked).await?;
    let written = BookingBody::from(&booked.booking);
    let mut response = HttpResponse::Created();
    response.insert_header((
        header::LOCATION,
        format!("/calendly/bookings/{}", written.uuid),
    ));
    if booked.replayed {
        response.insert_header((REPLAYED, "true"));
    }
    Ok(response.json(written))
}

/// Which bookings `GET /calendly/bookings` lists.
#[derive(Debug, Deserialize)]
pub struct BookingsParams {
    start_time: Option<String>,
    end_time: Option<String>,
    status: Option<String>,
    invitee_email: Option<String>,
}

/// The user's bookings between two times (by start), every page, sorted by start.
#[utoipa::path(
    get,
    path = "/calendly/bookings",
    operation_id = "bookings",
    tag = "bookings",
    security(("bearer" = [])),
    params(
        ("start_time" = String, Query, description = "RFC 3339; bookings starting from then.", format = DateTime),
        ("end_time" = String, Query, description = "RFC 3339; bookings starting before then, at most `limits.max_range_days` after `start_time`.", format = DateTime),
        ("status" = Option<String>, Query, description = "`active` or `canceled`; both by default."),
        ("invitee_email" = Option<String>, Query, description = "Only bookings with this invitee."),
    ),
    responses((status = 200, description = "The bookings, without their invitees, with `invitees_counter`.", body = BookingsBody))
)]
pub async fn bookings(
    state: web::Data<AppState>,
    AuthenticatedUser(user_id): AuthenticatedUser,
    params: web::Query<BookingsParams>,
) -> Result<HttpResponse, ApiError> {
    let params = params.into_inner();
    let (start, end) = required_times(params.start_time, params.end_time)?;
    let status = match params.status.as_deref() {
        None | Some("") => None,
        Some("active") => Some(BookingStatus::Active),
        Some("canceled") => Some(BookingStatus::Canceled),
        Some(_) => {
            return Err(ApiError::InvalidParameter(
                "status must be active or canceled.".into(),
            ));
        }
    };
    let invitee_email = params
        .invitee_email
        .map(|email| {
            Email::parse(email)
                .map_err(|e| ApiError::InvalidParameter(format!("invitee_email {e}.")))
        })
        .transpose()?;
    let listed = state
        .service
        .bookings(
            &user_id,
            BookingsQuery {
                start,
                end,
                status,
                invitee_email,
            },
        )
        .await?;
    Ok(HttpResponse::Ok().json(BookingsBody {
        collection: listed.iter().map(BookingBody::from).collect(),
    }))
}

/// One of the user's bookings, with its invitees.
#[utoipa::path(
    get,
    path = "/calendly/bookings/{uuid}",
    operation_id = "booking",
    tag = "bookings",
    security(("bearer" = [])),
    params(("uuid" = String, Path, description = "The booking's `uuid`.")),
    responses((status = 200, description = "The booking.", body = BookingBody))
)]
pub async fn booking(
    state: web::Data<AppState>,
    AuthenticatedUser(user_id): AuthenticatedUser,
    uuid: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = booking_id(&uuid)?;
    let booking = state.service.booking(&user_id, &id).await?;
    Ok(HttpResponse::Ok().json(BookingBody::from(&booking)))
}

/// Cancels one of the user's bookings; Calendly tells its invitees.
#[utoipa::path(
    post,
    path = "/calendly/bookings/{uuid}/cancellation",
    operation_id = "cancel_booking",
    tag = "bookings",
    security(("bearer" = [])),
    params(("uuid" = String, Path, description = "The booking's `uuid`.")),
    request_body(content = Option<written::CancellationBody>, content_type = "application/json"),
    responses((status = 200, description = "Canceled: the booking, `\"status\": \"canceled\"`.", body = BookingBody))
)]
pub async fn cancel(
    state: web::Data<AppState>,
    AuthenticatedUser(user_id): AuthenticatedUser,
    request: HttpRequest,
    uuid: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let answered = canceled(&state, &user_id, &uuid, &body).await;
    observe(&request, "cancel", &answered);
    answered
}

async fn canceled(
    state: &AppState,
    user_id: &domain::UserId,
    uuid: &str,
    body: &[u8],
) -> Result<HttpResponse, ApiError> {
    let id = booking_id(uuid)?;
    let reason = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        let object = object_from(body)?;
        if let Some(unknown) = object.keys().find(|key| key.as_str() != "reason") {
            return Err(ApiError::InvalidParameter(format!(
                "{unknown} is not a field of a cancellation; the field is reason."
            )));
        }
        string_field(&object, "reason")?.map(str::to_owned)
    };
    let canceled = state
        .service
        .cancel_booking(user_id, &id, reason.as_deref())
        .await?;
    Ok(HttpResponse::Ok().json(BookingBody::from(&canceled)))
}
