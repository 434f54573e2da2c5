//! Request ids: an incoming `X-Request-Id` is kept when it is sane, otherwise one is made; it is
//! returned in the response and is a field of the request's root span, so every log line of
//! the request carries it.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage};
use tracing::Span;
use tracing_actix_web::{DefaultRootSpanBuilder, RootSpanBuilder};

pub const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Longest request id kept from a client.
const MAX_LEN: usize = 128;

/// The id of the request being served.
#[derive(Debug, Clone)]
pub struct RequestId(pub HeaderValue);

/// A client's id is kept if it is 1 to 128 visible ASCII characters, so it cannot break a log
/// line or a header.
fn acceptable(value: &HeaderValue) -> bool {
    let bytes = value.as_bytes();
    !bytes.is_empty() && bytes.len() <= MAX_LEN && bytes.iter().all(u8::is_ascii_graphic)
}

fn generated() -> HeaderValue {
    HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()).expect("a UUID is a valid header")
}

/// Middleware: settles the request's id before anything else runs and returns it.
pub async fn assign(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let id = request
        .headers()
        .get(&X_REQUEST_ID)
        .filter(|value| acceptable(value))
        .cloned()
        .unwrap_or_else(generated);
    request.extensions_mut().insert(RequestId(id.clone()));
    let mut response = next.call(request).await?;
    response.headers_mut().insert(X_REQUEST_ID, id);
    Ok(response)
}

/// The root span of every request: tracing-actix-web's fields, with the request id the gateway
/// settled on.
#[derive(Debug)]
pub struct GatewayRootSpan;

impl RootSpanBuilder for GatewayRootSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let request_id = request
            .extensions()
            .get::<RequestId>()
            .map(|id| String::from_utf8_lossy(id.0.as_bytes()).into_owned())
            .unwrap_or_default();
        let route = request.match_pattern().unwrap_or_default();
        tracing::info_span!(
            "HTTP request",
            request_id = %request_id,
            http.method = %request.method(),
            http.route = %route,
            http.status_code = tracing::field::Empty,
            otel.status_code = tracing::field::Empty,
            exception.message = tracing::field::Empty,
            exception.details = tracing::field::Empty,
        )
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sane_ids_are_kept_and_others_are_not() {
        assert!(acceptable(&HeaderValue::from_static("abc-123_XYZ.7")));
        assert!(acceptable(&HeaderValue::from_static(
            "550e8400-e29b-41d4-a716-446655440000"
        )));
        assert!(!acceptable(&HeaderValue::from_static("")));
        assert!(!acceptable(&HeaderValue::from_static("has space")));
        assert!(!acceptable(
            &HeaderValue::from_str(&"a".repeat(129)).expect("header")
        ));
        assert!(!acceptable(
            &HeaderValue::from_bytes(b"caf\xc3\xa9").expect("header")
        ));
    }

    #[test]
    fn generated_ids_differ() {
        assert_ne!(generated(), generated());
    }
}
