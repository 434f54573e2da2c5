//! Bodies made of the provider's JSON values as it wrote them, copied once, never re-encoded.

use actix_web::HttpResponse;
use actix_web::http::header::ContentType;
use domain::RawJson;
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
}
