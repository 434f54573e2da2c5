use super::*;
use domain::EventTypeUri;
use serde_json::json;

#[test]
fn each_error_has_the_contracts_status_and_code() {
    let details = json!({ "title": "T", "message": "M" });
    let cases: Vec<(ApiError, u16, &str)> = vec![
        (
            ApiError::Unauthenticated(AuthError::Missing),
            401,
            "not_authenticated",
        ),
        (
            ApiError::Unauthenticated(AuthError::Expired),
            401,
            "token_expired",
        ),
        (
            ApiError::MissingParameter("start_time"),
            422,
            "missing_parameter",
        ),
        (
            GatewayError::NotConnected.into(),
            404,
            "calendly_not_connected",
        ),
        (
            GatewayError::EventTypeNotFound(EventTypeUri::parse("https://e/1").expect("uri"))
                .into(),
            404,
            "event_type_not_found",
        ),
        (
            GatewayError::InvalidRange(RangeError::TooLong { max_days: 365 }).into(),
            400,
            "invalid_parameter",
        ),
        (
            GatewayError::Provider(ProviderError::Rejected {
                reason: Rejection::Conflict,
                details: details.clone(),
            })
            .into(),
            409,
            "calendly_error",
        ),
        (
            GatewayError::Provider(ProviderError::CredentialRejected { details }).into(),
            424,
            "calendly_reauth_required",
        ),
        (
            GatewayError::Provider(ProviderError::Timeout).into(),
            504,
            "calendly_timeout",
        ),
        (
            GatewayError::Repository(RepositoryError::Unavailable("down".into())).into(),
            503,
            "database_unavailable",
        ),
    ];
    for (error, status, code) in cases {
        let (kind, _) = error.described();
        assert_eq!(
            (kind.status.as_u16(), kind.code),
            (status, code),
            "{error:?}"
        );
        assert_eq!(error.status_code(), kind.status);
    }
}

#[test]
fn the_original_services_wording_is_kept() {
    let (_, detail) = ApiError::from(GatewayError::NotConnected).described();
    assert_eq!(
        detail,
        "No PAT token found. Please connect your Calendly account."
    );
    let (_, detail) = ApiError::Unauthenticated(AuthError::Invalid).described();
    assert_eq!(detail, "Invalid authentication credentials");
}

#[test]
fn framework_statuses_have_their_codes() {
    assert_eq!(
        framework_kind(StatusCode::URI_TOO_LONG).code,
        "uri_too_long"
    );
    assert_eq!(framework_kind(StatusCode::IM_A_TEAPOT).code, "bad_request");
    assert_eq!(
        framework_kind(StatusCode::BAD_GATEWAY).code,
        "internal_error"
    );
}
