//! The `Authorization: Bearer …` header, checked through the `UserAuth` port.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use domain::{AuthError, UserId};

use crate::error::ApiError;
use crate::state::AppState;

/// The user a request's bearer token was issued for.
#[derive(Debug, Clone)]
pub struct AuthenticatedUser(pub UserId);

impl FromRequest for AuthenticatedUser {
    type Error = ApiError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(authenticate(request))
    }
}

fn authenticate(request: &HttpRequest) -> Result<AuthenticatedUser, ApiError> {
    let state = request
        .app_data::<web::Data<AppState>>()
        .expect("AppState is registered with the application");
    let token = bearer_token(request).ok_or(ApiError::Unauthenticated(AuthError::Missing))?;
    state
        .user_auth
        .authenticate(token)
        .map(AuthenticatedUser)
        .map_err(ApiError::Unauthenticated)
}

/// The credentials of a `Bearer` authorization (scheme case-insensitive), as FastAPI's
/// `HTTPBearer` read them: no header, another scheme or no credentials count as missing.
fn bearer_token(request: &HttpRequest) -> Option<&str> {
    let value = request
        .headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, credentials) = value.trim().split_once(' ')?;
    let credentials = credentials.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !credentials.is_empty()).then_some(credentials)
}
