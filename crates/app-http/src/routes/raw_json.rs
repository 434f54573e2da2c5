//! Bodies made of the provider's JSON values as it wrote them, copied once, never re-encoded.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use actix_web::HttpResponse;
use actix_web::body::{BodySize, MessageBody};
use actix_web::http::header::ContentType;
use actix_web::web::Bytes;
use domain::{JsonPiece, RawJson};
use utoipa::openapi::schema::{
    AdditionalProperties, ObjectBuilder, SchemaFormat, SchemaType, Type,
};
use utoipa::openapi::{RefOr, Schema};

/// A 200 whose JSON body is `prefix`, then `[value,value,…]`, then `suffix`.
pub fn json_list<'a, I>(prefix: &str, values: I, suffix: &str) -> HttpResponse
where
    I: Iterator<Item = &'a RawJson> + Clone,
{
    json_pieces(prefix, values.map(RawJson::as_bytes), suffix)
}

/// A 200 whose JSON body is `prefix`, then `[` and the pieces comma-separated, then `]` and
/// `suffix`: each piece one value, or values already comma-separated.
pub fn json_pieces<I, P>(prefix: &str, pieces: I, suffix: &str) -> HttpResponse
where
    I: Iterator<Item = P> + Clone,
    P: AsRef<[u8]>,
{
    let size = prefix.len()
        + suffix.len()
        + 2
        + pieces
            .clone()
            .map(|piece| piece.as_ref().len() + 1)
            .sum::<usize>();
    let mut body = Vec::with_capacity(size);
    body.extend_from_slice(prefix.as_bytes());
    body.push(b'[');
    for (i, piece) in pieces.enumerate() {
        if i > 0 {
            body.push(b',');
        }
        body.extend_from_slice(piece.as_ref());
    }
    body.push(b']');
    body.extend_from_slice(suffix.as_bytes());
    HttpResponse::Ok()
        .content_type(ContentType::json())
        .body(body)
}

/// Most pieces sent from the buffers they are in; more are copied into one buffer first (each
/// piece sent apart costs the HTTP layer a step of its own).
const MOST_SHARED: usize = 8;

/// The body of [`json_pieces`]: a few pieces (as usual, a run of times read or kept in one
/// buffer) are sent from their buffers, which the HTTP layer copies once into what it writes;
/// many are written into one buffer first, as [`json_pieces`] does.
pub fn json_shared<'a, I>(prefix: &'static str, pieces: I, suffix: &'static str) -> HttpResponse
where
    I: Iterator<Item = JsonPiece<'a>> + Clone,
{
    if pieces.clone().nth(MOST_SHARED).is_some() {
        return json_pieces(prefix, pieces, suffix);
    }
    let mut chunks = Vec::with_capacity(2 * MOST_SHARED + 3);
    if !prefix.is_empty() {
        chunks.push(Bytes::from_static(prefix.as_bytes()));
    }
    chunks.push(Bytes::from_static(b"["));
    for (i, piece) in pieces.enumerate() {
        if i > 0 {
            chunks.push(Bytes::from_static(b","));
        }
        chunks.push(piece.shared());
    }
    chunks.push(Bytes::from_static(b"]"));
    if !suffix.is_empty() {
        chunks.push(Bytes::from_static(suffix.as_bytes()));
    }
    let size = chunks.iter().map(|chunk| chunk.len() as u64).sum();
    HttpResponse::Ok()
        .content_type(ContentType::json())
        .body(Chunks {
            chunks: chunks.into_iter(),
            size,
        })
}

/// A body of known size sent as the chunks it is made of.
struct Chunks {
    chunks: std::vec::IntoIter<Bytes>,
    size: u64,
}

impl MessageBody for Chunks {
    type Error = Infallible;

    fn size(&self) -> BodySize {
        BodySize::Sized(self.size)
    }

    fn poll_next(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        Poll::Ready(self.get_mut().chunks.next().map(Ok))
    }
}

/// An object with `required` string properties, optional `nullable` string properties, and any
/// other property allowed.
pub fn calendly_object(
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

#[cfg(test)]
mod tests {
    use actix_web::body::MessageBody;

    use super::*;

    fn text(response: HttpResponse) -> String {
        let bytes = response
            .into_body()
            .try_into_bytes()
            .expect("a complete body");
        String::from_utf8(bytes.to_vec()).expect("utf-8")
    }

    #[test]
    fn values_are_written_as_they_are() {
        let values = [
            RawJson::parse(r#"{"a": 1,  "b":[true]}"#).expect("json"),
            RawJson::parse(r#"{"c":"\u00e9"}"#).expect("json"),
        ];
        let body = text(json_list(r#"{"collection":"#, values.iter(), "}"));
        assert_eq!(
            body,
            r#"{"collection":[{"a": 1,  "b":[true]},{"c":"\u00e9"}]}"#
        );
        let parsed: serde_json::Value = serde_json::from_str(&body).expect("valid JSON");
        assert_eq!(parsed["collection"][1]["c"], "é");
    }

    #[test]
    fn no_values_is_an_empty_array() {
        assert_eq!(text(json_list("", std::iter::empty(), "")), "[]");
    }

    #[actix_web::test]
    async fn a_few_pieces_are_sent_from_their_buffers_and_many_are_copied_alike() {
        let values: Vec<RawJson> = (0..=MOST_SHARED + 1)
            .map(|i| RawJson::parse(format!(r#"{{"n":{i}}}"#)).expect("json"))
            .collect();
        for count in [0, 1, 2, MOST_SHARED, MOST_SHARED + 1, MOST_SHARED + 2] {
            let pieces = values[..count].iter().map(JsonPiece::One);
            let body = json_shared(r#"{"collection":"#, pieces, "}").into_body();
            // One buffer to hand over only when copied into one.
            let body = match body.try_into_bytes() {
                Ok(bytes) => {
                    assert!(count > MOST_SHARED, "{count} pieces copied");
                    bytes
                }
                Err(body) => {
                    assert!(count <= MOST_SHARED, "{count} pieces sent apart");
                    actix_web::body::to_bytes(body).await.expect("complete")
                }
            };
            let body = String::from_utf8(body.to_vec()).expect("utf-8");
            let expected: Vec<String> = (0..count).map(|i| format!(r#"{{"n":{i}}}"#)).collect();
            assert_eq!(
                body,
                format!(r#"{{"collection":[{}]}}"#, expected.join(","))
            );
            let parsed: serde_json::Value = serde_json::from_str(&body).expect("valid JSON");
            assert_eq!(parsed["collection"].as_array().map(Vec::len), Some(count));
        }
    }

    #[actix_web::test]
    async fn a_run_is_sent_from_the_buffer_it_was_read_into() {
        let buffer = Bytes::from_static(br#"{"collection":[{"n":1},{"n":2}]}"#);
        let run = JsonPiece::Run(&buffer, 15..30);
        let mut body = json_shared("", std::iter::once(run), "").into_body();
        let mut chunks = Vec::new();
        while let Some(chunk) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_next(cx)).await {
            chunks.push(chunk.expect("chunk"));
        }
        assert_eq!(chunks.len(), 3);
        assert_eq!(&chunks[1][..], br#"{"n":1},{"n":2}"#);
        assert_eq!(chunks[1].as_ptr(), buffer[15..].as_ptr(), "not copied");
    }
}
