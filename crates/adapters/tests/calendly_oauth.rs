//! The client of Calendly's OAuth server against wiremock answering as Calendly documents:
//! what it sends (form, HTTP Basic, PKCE verifier, redirect URI) and how each answer maps.

use std::time::Duration;

use adapters::calendly::{CalendlyOAuthClient, CalendlyOAuthSettings};
use base64::Engine as _;
use domain::{AuthorizationCode, CalendlyToken, OAuthProvider, PkceVerifier, ProviderError};
use secrecy::SecretString;
use serde_json::{Value, json};
use wiremock::matchers::{body_string_contains, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const CLIENT_ID: &str = "gateway-client-id";
const CLIENT_SECRET: &str = "gateway-client-secret";
const REDIRECT_URI: &str = "https://gateway.example/calendly/oauth/callback";

fn client(server: &MockServer, timeout: Duration) -> CalendlyOAuthClient {
    CalendlyOAuthClient::new(CalendlyOAuthSettings {
        auth_base_url: format!("{}/", server.uri()),
        client_id: CLIENT_ID.into(),
        client_secret: SecretString::from(CLIENT_SECRET),
        redirect_uri: REDIRECT_URI.into(),
        scopes: Some("users:read event_types:read".into()),
        timeout,
        connect_timeout: Duration::from_secs(1),
        observer: None,
    })
    .expect("client")
}

fn basic() -> String {
    let credentials =
        base64::engine::general_purpose::STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"));
    format!("Basic {credentials}")
}

/// Calendly's documented token answer.
fn token_answer(access: &str, refresh: &str) -> Value {
    json!({
        "token_type": "Bearer",
        "expires_in": 7200,
        "created_at": 1_548_689_183,
        "refresh_token": refresh,
        "access_token": access,
        "scope": "default",
        "owner": "https://api.calendly.com/users/EBHAAFHDCAEQTSEZ",
        "organization": "https://api.calendly.com/organizations/EBHAAFHDCAEQTSEZ"
    })
}

fn code() -> AuthorizationCode {
    AuthorizationCode::parse("the-code").expect("code")
}

fn verifier() -> PkceVerifier {
    PkceVerifier::parse("the-verifier-0123456789").expect("verifier")
}

fn refresh_token() -> CalendlyToken {
    CalendlyToken::parse("the-refresh-token").expect("token")
}

#[tokio::test]
async fn a_code_is_exchanged_with_its_verifier_and_the_registered_redirect_uri() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .and(header("authorization", basic().as_str()))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .and(body_string_contains("grant_type=authorization_code"))
        .and(body_string_contains("code=the-code"))
        .and(body_string_contains(
            "code_verifier=the-verifier-0123456789",
        ))
        .and(body_string_contains(
            "redirect_uri=https%3A%2F%2Fgateway.example%2Fcalendly%2Foauth%2Fcallback",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(token_answer("at-1", "rt-1")))
        .expect(1)
        .mount(&server)
        .await;

    let grant = client(&server, Duration::from_secs(5))
        .exchange_code(&code(), &verifier())
        .await
        .expect("granted");

    assert_eq!(grant.access_token.expose(), "at-1");
    assert_eq!(grant.refresh_token.expose(), "rt-1");
    assert_eq!(grant.expires_in, Duration::from_secs(7200));
    assert_eq!(
        grant.owner.as_str(),
        "https://api.calendly.com/users/EBHAAFHDCAEQTSEZ"
    );
    assert_eq!(grant.scopes, Some(domain::Scopes::parse("default")));
}

#[tokio::test]
async fn a_refresh_sends_the_refresh_token_and_takes_the_new_pair() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .and(header("authorization", basic().as_str()))
        .and(body_string_contains("grant_type=refresh_token"))
        .and(body_string_contains("refresh_token=the-refresh-token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(token_answer("at-2", "rt-2")))
        .expect(1)
        .mount(&server)
        .await;

    let grant = client(&server, Duration::from_secs(5))
        .refresh(&refresh_token())
        .await
        .expect("refreshed");
    assert_eq!(
        (grant.access_token.expose(), grant.refresh_token.expose()),
        ("at-2", "rt-2")
    );
}

#[tokio::test]
async fn invalid_grant_is_a_rejected_credential_and_other_refusals_are_unavailable() {
    let cases: [(u16, Value, &str); 5] = [
        (
            400,
            json!({ "error": "invalid_grant", "error_description": "The refresh token is invalid" }),
            "rejected",
        ),
        (
            401,
            json!({ "error": "invalid_client", "error_description": "Client authentication failed" }),
            "unavailable",
        ),
        (
            400,
            json!({ "error": "invalid_request", "error_description": "Missing parameter" }),
            "unavailable",
        ),
        (500, json!({ "error": "server_error" }), "unavailable"),
        (429, json!({ "error": "rate_limited" }), "rate limited"),
    ];
    for (status, body, expected) in cases {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/oauth/token"))
            .respond_with(
                ResponseTemplate::new(status)
                    .set_body_json(&body)
                    .insert_header("x-ratelimit-reset", "42"),
            )
            .expect(1)
            .mount(&server)
            .await;
        let error = client(&server, Duration::from_secs(5))
            .refresh(&refresh_token())
            .await
            .expect_err("refused");
        let got = match &error {
            ProviderError::CredentialRejected { details } => {
                assert_eq!(details, &body);
                "rejected"
            }
            ProviderError::RateLimited { retry_after, .. } => {
                assert_eq!(*retry_after, Some(Duration::from_secs(42)));
                "rate limited"
            }
            ProviderError::Unavailable { .. } => "unavailable",
            other => panic!("{other:?}"),
        };
        assert_eq!(got, expected, "{status} {body}");
    }
}

#[tokio::test]
async fn a_slow_or_unreachable_server_and_a_malformed_answer_fail_without_a_retry() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(token_answer("at", "rt"))
                .set_delay(Duration::from_secs(3)),
        )
        .expect(1)
        .mount(&server)
        .await;
    let error = client(&server, Duration::from_millis(200))
        .refresh(&refresh_token())
        .await
        .expect_err("too slow");
    assert!(matches!(error, ProviderError::Timeout), "{error:?}");

    let malformed = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "access_token": "at" })))
        .expect(1)
        .mount(&malformed)
        .await;
    let error = client(&malformed, Duration::from_secs(5))
        .refresh(&refresh_token())
        .await
        .expect_err("malformed");
    assert!(
        matches!(error, ProviderError::Unavailable { .. }),
        "{error:?}"
    );

    let gone = client(&malformed, Duration::from_secs(5));
    drop(malformed);
    let error = gone.refresh(&refresh_token()).await.expect_err("refused");
    assert!(
        matches!(error, ProviderError::Unavailable { .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn revoking_sends_the_application_and_the_token() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/revoke"))
        .and(body_string_contains("client_id=gateway-client-id"))
        .and(body_string_contains("client_secret=gateway-client-secret"))
        .and(body_string_contains("token=the-refresh-token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .expect(1)
        .mount(&server)
        .await;
    client(&server, Duration::from_secs(5))
        .revoke(&refresh_token())
        .await
        .expect("revoked");
}

#[tokio::test]
async fn errors_never_show_a_secret() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&server)
        .await;
    let client = client(&server, Duration::from_secs(5));
    let error = client
        .exchange_code(&code(), &verifier())
        .await
        .expect_err("500");
    let shown = format!("{error} {error:?} {client:?}");
    for secret in [CLIENT_SECRET, "the-code", "the-verifier-0123456789"] {
        assert!(!shown.contains(secret), "{shown}");
    }
}

#[tokio::test]
async fn an_authorization_carries_the_application_the_s256_challenge_and_a_fresh_state() {
    use sha2::Digest as _;

    let server = MockServer::start().await;
    let client = client(&server, Duration::from_secs(1));
    let first = client.authorization();
    let second = client.authorization();

    let url = reqwest::Url::parse(&first.authorize_url).expect("a URL");
    assert_eq!(url.path(), "/oauth/authorize");
    assert_eq!(
        url.origin(),
        reqwest::Url::parse(&server.uri()).expect("uri").origin()
    );
    let query: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(first.verifier.expose().as_bytes()));
    assert_eq!(
        query,
        [
            ("client_id", CLIENT_ID),
            ("response_type", "code"),
            ("redirect_uri", REDIRECT_URI),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
            ("state", first.state.expose()),
            ("scope", "users:read event_types:read"),
        ]
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
    );
    // PKCE wants 43 to 128 characters; both are 256 random bits.
    assert_eq!(first.verifier.expose().len(), 43);
    assert_eq!(first.state.expose().len(), 43);
    assert_ne!(first.state.expose(), second.state.expose());
    assert_ne!(first.verifier.expose(), second.verifier.expose());
    // Nothing was called.
    assert!(
        server
            .received_requests()
            .await
            .unwrap_or_default()
            .is_empty()
    );
}
