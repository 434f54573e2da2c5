//! Reading a JSON object body field by field, telling a missing field (422) from a malformed
//! body or field (400).

use serde_json::{Map, Value};

use crate::error::ApiError;

/// The body as a JSON object; anything else is 400 `invalid_parameter`.
pub(super) fn object_from(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        ApiError::InvalidParameter(format!("The request body is not valid JSON: {e}."))
    })?;
    match value {
        Value::Object(object) => Ok(object),
        _ => Err(ApiError::InvalidParameter(
            "The request body must be a JSON object.".into(),
        )),
    }
}

/// The string field `name` of `object`: `None` when missing or null; another type is 400.
pub(super) fn string_field<'a>(
    object: &'a Map<String, Value>,
    name: &'static str,
) -> Result<Option<&'a str>, ApiError> {
    match object.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(_) => Err(ApiError::InvalidParameter(format!(
            "{name} must be a string."
        ))),
    }
}

/// The string field `name` of a body that is one JSON object: an empty body, or the field
/// missing or null, is 422 `missing_parameter`; anything else wrong with the body is 400.
pub(super) fn required_string(body: &[u8], name: &'static str) -> Result<String, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::MissingField(name));
    }
    let object = object_from(body)?;
    string_field(&object, name)?
        .map(str::to_owned)
        .ok_or(ApiError::MissingField(name))
}
