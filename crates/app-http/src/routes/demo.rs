//! The reference web client at `/demo/` (its built files, `web/dist`, compiled into the binary)
//! and `POST /demo/session`, which signs a visitor in as a user id of their choice. Both exist
//! only while `demo.enabled` (the local profile; production refuses it): in a real deployment
//! the web application issues the bearer tokens.

use std::borrow::Cow;
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use adapters::jwt::JwtIssuer;
use domain::UserId;
use rust_embed::RustEmbed;
use serde::Serialize;
use utoipa::ToSchema;

use super::json_body::required_string;
use crate::error::{ApiError, ErrorKind, INVALID_PARAMETER, MISSING_PARAMETER, status_error};

/// How long a demo sign-in lasts.
pub const SESSION_LIFETIME: Duration = Duration::from_secs(3600);

/// The errors of `POST /demo/session`.
pub const SESSION_ERRORS: &[ErrorKind] = &[INVALID_PARAMETER, MISSING_PARAMETER];

/// The web client's built files (`web/dist`, made by `npm run build` in `web/` and committed),
/// in the binary in every build profile: `cargo run` needs no Node.js and no `web/` beside it.
#[derive(RustEmbed)]
#[folder = "../../web/dist"]
struct ClientFiles;

/// Signs demo visitors in: only present while `demo.enabled`.
#[derive(Debug)]
pub struct DemoSessions {
    issuer: JwtIssuer,
}

impl DemoSessions {
    pub fn new(issuer: JwtIssuer) -> Self {
        Self { issuer }
    }
}

/// The signed-in visitor's access token.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = DemoSession)]
pub struct SessionBody {
    /// A bearer token for the user id asked for (HS256, `sub` = the user id).
    access_token: String,
    /// Always `bearer`.
    #[schema(example = "bearer")]
    token_type: &'static str,
    /// Seconds until the token expires.
    #[schema(example = 3600)]
    expires_in: u64,
}

// Describes the body for the OpenAPI document; `user_from` reads it, telling a missing field
// (422) from a malformed body (400).
/// Who to sign in as.
#[derive(Debug, ToSchema)]
#[schema(as = DemoSessionRequest)]
#[expect(dead_code, reason = "describes the body in the OpenAPI document only")]
pub struct SessionRequest {
    /// Any user id of the web application: visible text, up to 255 characters.
    #[schema(example = "ada")]
    user_id: String,
}

const FIELD: &str = "user_id";

fn user_from(body: &[u8]) -> Result<UserId, ApiError> {
    UserId::parse(required_string(body, FIELD)?)
        .map_err(|e| ApiError::InvalidParameter(format!("{e}.")))
}

/// Signs a visitor of the demo in as any user id (only while `demo.enabled`: the local
/// profile; otherwise 404).
#[utoipa::path(
    post,
    path = "/demo/session",
    operation_id = "demo_session",
    tag = "demo",
    request_body(content = SessionRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "Signed in: a bearer token for that user id, valid for an hour.", body = SessionBody),
        (status = 404, description = "`not_found`: the demo is off (`demo.enabled` false, as in production).", body = crate::error::ErrorBody)
    )
)]
pub async fn session(
    sessions: web::Data<DemoSessions>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let user_id = user_from(&body)?;
    let access_token = sessions.issuer.issue(&user_id, SESSION_LIFETIME);
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(SessionBody {
            access_token,
            token_type: "bearer",
            expires_in: SESSION_LIFETIME.as_secs(),
        }))
}

/// `/demo` → `/demo/`, where the client's relative paths resolve.
pub async fn to_the_client() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header((header::LOCATION, "/demo/"))
        .finish()
}

/// The page may load only its own files and talk only to the gateway; the OAuth code in its
/// address is never sent on as a referrer.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; \
     form-action 'self'";

/// `GET /demo/{file}`: one of the client's files (`index.html` for the folder itself), with an
/// `ETag` so that a browser asks again cheaply.
pub async fn client_file(request: HttpRequest, file: web::Path<String>) -> HttpResponse {
    let name = match file.as_str() {
        "" => "index.html",
        other => other,
    };
    let Some(content) = ClientFiles::get(name) else {
        return status_error(StatusCode::NOT_FOUND, "Not Found");
    };
    let etag = format!("\"{}\"", hex_prefix(&content.metadata.sha256_hash()));
    let fresh = request
        .headers()
        .get(header::IF_NONE_MATCH)
        .is_some_and(|seen| seen.as_bytes() == etag.as_bytes());
    let mut response = if fresh {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ));
    if fresh {
        return response.finish();
    }
    // Embedded files are borrowed from the binary: served without a copy.
    let body = match content.data {
        Cow::Borrowed(bytes) => web::Bytes::from_static(bytes),
        Cow::Owned(bytes) => web::Bytes::from(bytes),
    };
    response.content_type(content_type(name)).body(body)
}

fn hex_prefix(digest: &[u8]) -> String {
    digest.iter().take(12).map(|b| format!("{b:02x}")).collect()
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit_once('.').map(|(_, extension)| extension) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_names_what_is_wrong() {
        assert!(matches!(user_from(b" "), Err(ApiError::MissingField(_))));
        assert!(matches!(user_from(b"{}"), Err(ApiError::MissingField(_))));
        assert!(matches!(
            user_from(br#"{"user_id": 7}"#),
            Err(ApiError::InvalidParameter(_))
        ));
        assert!(matches!(
            user_from(br#"{"user_id": ""}"#),
            Err(ApiError::InvalidParameter(_))
        ));
        assert_eq!(
            user_from(br#"{"user_id": "ada"}"#)
                .ok()
                .map(|u| u.as_str().to_owned()),
            Some("ada".to_owned())
        );
    }

    #[test]
    fn the_built_client_is_compiled_in() {
        let index = ClientFiles::get("index.html").map(|f| f.data.into_owned());
        let text = String::from_utf8(index.unwrap_or_default()).unwrap_or_default();
        assert!(text.contains("<html"), "web/dist/index.html is embedded");
        assert_eq!(content_type("app.js"), "text/javascript; charset=utf-8");
        assert_eq!(content_type("README"), "application/octet-stream");
    }
}
