//! Connecting with OAuth: the start, the completion (bound to the user who started) and what
//! can go wrong with it, the callback that passes Calendly's answer on, renewing the access
//! token, and revoking on disconnect. Calendly's API and its OAuth server are one
//! wiremock; the gateway is the real application.

use std::collections::HashMap;
use std::time::Duration;

use base64::Engine as _;
use serde_json::{Value, json};
use sha2::Digest as _;
use test_support::calendly;
use wiremock::matchers::{body_string_contains, header, method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::{TestApp, USER, assert_error, browser, json_of, location};
use crate::secrets_in_logs;

const CLIENT_ID: &str = "gateway-test-client";
const CLIENT_SECRET: &str = "gateway-test-client-secret";
const REDIRECT_URI: &str = "https://gateway.example/calendly/oauth/callback";
const RETURN_URL: &str = "https://app.example/settings?tab=calendly";

/// A gateway with OAuth on, Calendly's OAuth server on the same wiremock as its API; the
/// redirect URI is the gateway's callback, which passes Calendly's answer on to `RETURN_URL`
/// (with `app_page`, the redirect URI is the web application's page, and no return URL).
async fn oauth_app(app_page: bool) -> TestApp {
    secrets_in_logs::register_secret(CLIENT_SECRET);
    TestApp::spawn_with(|settings| {
        settings.calendly.auth_base_url = settings.calendly.api_base_url.clone();
        settings.calendly.oauth.client_id = Some(CLIENT_ID.into());
        settings.calendly.oauth.client_secret = Some(CLIENT_SECRET.into());
        settings.calendly.oauth.redirect_uri = Some(if app_page {
            "https://app.example/calendly/connected".into()
        } else {
            REDIRECT_URI.into()
        });
        settings.calendly.oauth.return_url = (!app_page).then(|| RETURN_URL.into());
    })
    .await
}

/// `POST /calendly/oauth/start` as `user`: the authorize URL's query.
async fn start(app: &TestApp, user: &str) -> HashMap<String, String> {
    let response = app
        .client
        .post(app.url("/calendly/oauth/start"))
        .bearer_auth(app.token(user))
        .send()
        .await
        .expect("sent");
    let (status, body) = json_of(response).await;
    assert_eq!(status, 200, "{body}");
    let url = reqwest::Url::parse(body["authorize_url"].as_str().expect("a URL")).expect("URL");
    assert_eq!(url.path(), "/oauth/authorize");
    let query: HashMap<String, String> = url.query_pairs().into_owned().collect();
    secrets_in_logs::register_secret(&query["state"]);
    query
}

/// The token endpoint grants `access`/`refresh` for the `grant` (`authorization_code` or
/// `refresh_token`), living `expires_in` seconds.
async fn token_endpoint_grants(
    app: &TestApp,
    grant: &str,
    access: &str,
    refresh: &str,
    expires_in: u64,
) {
    secrets_in_logs::register_secret(access);
    secrets_in_logs::register_secret(refresh);
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .and(body_string_contains(format!("grant_type={grant}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "token_type": "Bearer",
            "access_token": access,
            "refresh_token": refresh,
            "expires_in": expires_in,
            "created_at": 1_700_000_000,
            "scope": "default",
            "owner": calendly::user_uri(),
            "organization": "https://api.calendly.com/organizations/AAAA",
        })))
        .up_to_n_times(1)
        .with_priority(2)
        .mount(&app.calendly)
        .await;
}

/// The token endpoint grants `access`/`refresh` for a code, with the scopes `scope`.
async fn token_endpoint_grants_scopes(app: &TestApp, access: &str, refresh: &str, scope: &str) {
    secrets_in_logs::register_secret(access);
    secrets_in_logs::register_secret(refresh);
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "token_type": "Bearer",
            "access_token": access,
            "refresh_token": refresh,
            "expires_in": 7200,
            "created_at": 1_700_000_000,
            "scope": scope,
            "owner": calendly::user_uri(),
        })))
        .up_to_n_times(1)
        .mount(&app.calendly)
        .await;
}

/// Calendly exchanges a code for `access`/`refresh` (living `expires_in` seconds), and knows the
/// user by `access`.
async fn calendly_grants_the_code(app: &TestApp, access: &str, refresh: &str, expires_in: u64) {
    token_endpoint_grants(app, "authorization_code", access, refresh, expires_in).await;
    users_me_for(app, access).await;
}

/// Calendly's `/users/me` answers for `access` alone.
async fn users_me_for(app: &TestApp, access: &str) {
    Mock::given(method("GET"))
        .and(path("/users/me"))
        .and(header("authorization", format!("Bearer {access}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(calendly::users_me()))
        .mount(&app.calendly)
        .await;
}

/// `POST /calendly/oauth/complete` as `user` with `body`.
async fn complete(app: &TestApp, user: &str, body: Value) -> reqwest::Response {
    app.client
        .post(app.url("/calendly/oauth/complete"))
        .bearer_auth(app.token(user))
        .json(&body)
        .send()
        .await
        .expect("sent")
}

async fn callback(app: &TestApp, query: &str) -> reqwest::Response {
    browser()
        .get(app.url(&format!("/calendly/oauth/callback?{query}")))
        .send()
        .await
        .expect("sent")
}

/// The form fields of the token requests Calendly received.
async fn token_requests(app: &TestApp) -> Vec<HashMap<String, String>> {
    app.calendly_requests("/oauth/token")
        .await
        .iter()
        .map(|r| {
            reqwest::Url::parse(&format!("http://x/?{}", String::from_utf8_lossy(&r.body)))
                .expect("form")
                .query_pairs()
                .into_owned()
                .collect()
        })
        .collect()
}

/// Connects `USER` through the whole flow: tokens `access`/`refresh` living `expires_in`.
async fn connect_with_oauth(app: &TestApp, access: &str, refresh: &str, expires_in: u64) {
    let query = start(app, USER).await;
    calendly_grants_the_code(app, access, refresh, expires_in).await;
    secrets_in_logs::register_secret("the-code");
    let response = complete(
        app,
        USER,
        json!({"code": "the-code", "state": query["state"]}),
    )
    .await;
    assert_eq!(response.status(), 200);
}

async fn connection_status(app: &TestApp) -> (u16, Value) {
    json_of(app.get("/calendly/connection").await).await
}

#[tokio::test]
async fn the_whole_flow_connects_with_pkce_and_the_registered_redirect_uri() {
    let app = oauth_app(false).await;
    let query = start(&app, USER).await;
    assert_eq!(query["client_id"], CLIENT_ID);
    assert_eq!(query["response_type"], "code");
    assert_eq!(query["redirect_uri"], REDIRECT_URI);
    assert_eq!(query["code_challenge_method"], "S256");
    calendly_grants_the_code(&app, "oauth-access-1", "oauth-refresh-1", 7200).await;
    secrets_in_logs::register_secret("code-from-calendly");

    // Calendly sends the browser to the gateway's callback, which passes its answer on to
    // the web application's page, storing nothing.
    let response = callback(
        &app,
        &format!("code=code-from-calendly&state={}", query["state"]),
    )
    .await;
    assert_eq!(response.status(), 302);
    assert_eq!(
        location(&response),
        format!(
            "{RETURN_URL}&code=code-from-calendly&state={}",
            query["state"]
        )
    );
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert!(token_requests(&app).await.is_empty());
    assert_eq!(connection_status(&app).await.0, 404);
    // The page hands the code over with the user's bearer.
    let response = complete(
        &app,
        USER,
        json!({"code": "code-from-calendly", "state": query["state"]}),
    )
    .await;
    assert_eq!(response.headers()["cache-control"], "no-store");
    let (status, body) = json_of(response).await;
    assert_eq!(
        (status, body["method"].as_str()),
        (200, Some("oauth")),
        "{body}"
    );
    assert_eq!(body["scopes"], json!(["default"]));

    let sent = token_requests(&app).await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["grant_type"], "authorization_code");
    assert_eq!(sent[0]["code"], "code-from-calendly");
    assert_eq!(sent[0]["redirect_uri"], REDIRECT_URI);
    let verifier = &sent[0]["code_verifier"];
    secrets_in_logs::register_secret(verifier);
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()));
    assert_eq!(challenge, query["code_challenge"]);

    let (status, body) = connection_status(&app).await;
    assert_eq!(
        (status, body["method"].as_str()),
        (200, Some("oauth")),
        "{body}"
    );
    assert_eq!(body["user_uri"], calendly::user_uri());
    // The stored access token is what Calendly's API is called with.
    app.calendly_has_event_types(&[calendly::event_type(
        "https://api.calendly.com/event_types/E1",
        "Intro",
    )])
    .await;
    assert_eq!(app.get("/calendly/user-event-types").await.status(), 200);
    let calls = app.calendly_requests("/event_types").await;
    assert_eq!(calls[0].headers["authorization"], "Bearer oauth-access-1");
}

#[tokio::test]
async fn a_state_completes_once_and_the_callback_needs_a_page_to_pass_it_on_to() {
    let app = oauth_app(true).await;
    let query = start(&app, USER).await;
    calendly_grants_the_code(&app, "oauth-access-1", "oauth-refresh-1", 7200).await;
    let body = json!({"code": "c1", "state": query["state"]});
    let (status, connection) = json_of(complete(&app, USER, body.clone()).await).await;
    assert_eq!(
        (status, connection["connected"].as_bool()),
        (200, Some(true)),
        "{connection}"
    );

    // The state worked once.
    assert_error(complete(&app, USER, body).await, 400, "invalid_state").await;
    // Without a return URL, the redirect URI is the web application's page: the callback is
    // not in use.
    assert_error(
        callback(&app, &format!("code=c1&state={}", query["state"])).await,
        404,
        "oauth_not_configured",
    )
    .await;
    assert_eq!(token_requests(&app).await.len(), 1);
}

#[tokio::test]
async fn the_callback_passes_calendlys_answer_on_and_stores_nothing() {
    let app = oauth_app(false).await;
    let query = start(&app, USER).await;
    let response = callback(
        &app,
        &format!(
            "error=access_denied&error_description=The+user+declined&state={}&other=dropped",
            query["state"]
        ),
    )
    .await;
    assert_eq!(
        location(&response),
        format!(
            "{RETURN_URL}&state={}&error=access_denied&error_description=The+user+declined",
            query["state"]
        )
    );
    // Nothing was spent: the page completes it (here, as declined).
    assert_error(
        complete(
            &app,
            USER,
            json!({"error": "access_denied", "state": query["state"]}),
        )
        .await,
        403,
        "access_denied",
    )
    .await;
    assert!(token_requests(&app).await.is_empty());
}

#[tokio::test]
async fn oauth_off_is_404_and_start_needs_a_bearer() {
    let app = TestApp::spawn().await;
    let response = app
        .client
        .post(app.url("/calendly/oauth/start"))
        .bearer_auth(app.token(USER))
        .send()
        .await
        .expect("sent");
    assert_error(response, 404, "oauth_not_configured").await;
    assert_error(
        callback(&app, "code=a&state=b").await,
        404,
        "oauth_not_configured",
    )
    .await;

    let app = oauth_app(false).await;
    let response = app
        .client
        .post(app.url("/calendly/oauth/start"))
        .send()
        .await
        .expect("sent");
    assert_error(response, 401, "not_authenticated").await;
    let query = start(&app, USER).await;
    let response = app
        .client
        .post(app.url("/calendly/oauth/complete"))
        .json(&json!({"code": "c", "state": query["state"]}))
        .send()
        .await
        .expect("sent");
    assert_error(response, 401, "not_authenticated").await;
    // The state was not spent by a completion without a bearer.
    calendly_grants_the_code(&app, "oauth-access-1", "oauth-refresh-1", 7200).await;
    let done = complete(&app, USER, json!({"code": "c", "state": query["state"]})).await;
    assert_eq!(done.status(), 200);
}

/// Every bad completion is its error, and stores nothing: the user's earlier connection (a
/// personal access token) is still there, and no token was stored.
#[tokio::test]
async fn bad_completions_store_nothing_and_each_is_its_error() {
    let app = oauth_app(false).await;
    app.connect().await;

    for (body, status, code) in [
        (json!({"code": "c"}), 422, "missing_parameter"),
        (json!({"state": "s"}), 422, "missing_parameter"),
        (
            json!({"code": "c", "state": "never-issued"}),
            400,
            "invalid_state",
        ),
        (
            json!({"code": "c", "state": "s".repeat(5000)}),
            400,
            "invalid_parameter",
        ),
        (
            json!({"code": "c d", "state": "s"}),
            400,
            "invalid_parameter",
        ),
        (json!({"code": 1, "state": "s"}), 400, "invalid_parameter"),
        (json!(["code", "state"]), 400, "invalid_parameter"),
        (
            json!({"error": "access_denied", "state": "never-issued"}),
            400,
            "invalid_state",
        ),
    ] {
        let response = complete(&app, USER, body.clone()).await;
        assert_error(response, status, code).await;
    }
    let response = app
        .client
        .post(app.url("/calendly/oauth/complete"))
        .bearer_auth(app.token(USER))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("sent");
    assert_error(response, 400, "invalid_parameter").await;

    // The user declined: the start is spent.
    let query = start(&app, USER).await;
    let declined = json!({"error": "access_denied", "state": query["state"]});
    assert_error(complete(&app, USER, declined).await, 403, "access_denied").await;
    let late = json!({"code": "c", "state": query["state"]});
    assert_error(complete(&app, USER, late).await, 400, "invalid_state").await;

    // An expired start.
    let query = start(&app, USER).await;
    app.db
        .execute("UPDATE calendly_oauth_starts SET expires_at = now() - interval '1 second'")
        .await;
    let expired = json!({"code": "c", "state": query["state"]});
    assert_error(complete(&app, USER, expired).await, 400, "invalid_state").await;

    // Calendly refuses the code, fails, or is too slow.
    for (answer, status, code) in [
        (
            ResponseTemplate::new(400)
                .set_body_json(json!({"error": "invalid_grant", "error_description": "expired"})),
            422,
            "calendly_token_invalid",
        ),
        (ResponseTemplate::new(500), 502, "calendly_unavailable"),
        (
            ResponseTemplate::new(200).set_delay(Duration::from_secs(5)),
            504,
            "calendly_timeout",
        ),
    ] {
        let query = start(&app, USER).await;
        let mock = Mock::given(method("POST"))
            .and(path("/oauth/token"))
            .respond_with(answer)
            .mount_as_scoped(&app.calendly)
            .await;
        let body = json!({"code": "c", "state": query["state"]});
        assert_error(complete(&app, USER, body).await, status, code).await;
        drop(mock);
    }

    let (status, body) = connection_status(&app).await;
    assert_eq!(
        (status, body["method"].as_str()),
        (200, Some("personal_access_token")),
        "{body}"
    );
}

/// The account-linking attack: user 7 starts, and sends the authorization URL to `USER`, who
/// approves at Calendly and lands on the page with the code. Completed with `USER`'s bearer,
/// nothing is stored, for either; completed by 7 (who holds a stolen code), the state is spent.
#[tokio::test]
async fn a_state_completed_by_another_user_stores_nothing_for_either() {
    let app = oauth_app(false).await;
    app.connect().await;
    let earlier = connection_status(&app).await.1;
    let response = app
        .put_connection_as("7", &json!({ "personal_access_token": "pat-of-7" }))
        .await;
    assert_eq!(response.status(), 200);
    let (_, earlier_of_7) = json_of(app.get_as("7", "/calendly/connection").await).await;
    let theirs = start(&app, "7").await;
    calendly_grants_the_code(&app, "access-of-the-victim", "refresh-of-the-victim", 7200).await;
    let body = json!({"code": "c", "state": theirs["state"]});
    assert_error(
        complete(&app, USER, body.clone()).await,
        403,
        "oauth_user_mismatch",
    )
    .await;
    // The state is spent: not even its user can use it now.
    assert_error(complete(&app, "7", body).await, 400, "invalid_state").await;
    assert!(
        token_requests(&app).await.is_empty(),
        "no code was exchanged"
    );
    let (_, of_7) = json_of(app.get_as("7", "/calendly/connection").await).await;
    assert_eq!(
        of_7, earlier_of_7,
        "the starter's earlier connection untouched"
    );
    assert_eq!(
        connection_status(&app).await.1,
        earlier,
        "the other's untouched"
    );
}

#[tokio::test]
async fn a_scope_not_granted_is_424_without_a_call_and_calendlys_403_for_one_is_too() {
    let app = oauth_app(false).await;
    let query = start(&app, USER).await;
    token_endpoint_grants_scopes(
        &app,
        "scoped-access",
        "scoped-refresh",
        "users:read event_types:read",
    )
    .await;
    users_me_for(&app, "scoped-access").await;
    let (status, connection) =
        json_of(complete(&app, USER, json!({"code": "c", "state": query["state"]})).await).await;
    assert_eq!(status, 200, "{connection}");
    assert_eq!(
        connection["scopes"],
        json!(["users:read", "event_types:read"])
    );
    assert_eq!(
        connection_status(&app).await.1["scopes"],
        connection["scopes"]
    );

    let busy = "/calendly/busy-times?start_time=2100-01-01T00:00:00Z&end_time=2100-01-02T00:00:00Z";
    let response = app.get(busy).await;
    assert_eq!(response.status(), 424);
    let (_, body) = json_of(response).await;
    assert_eq!(body["code"], "calendly_scope_missing");
    assert!(
        body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("availability:read")),
        "{body}"
    );
    assert!(
        app.calendly_requests("/user_busy_times").await.is_empty(),
        "no call"
    );
    assert_error(
        app.get("/calendly/availability-schedules").await,
        424,
        "calendly_scope_missing",
    )
    .await;

    // A granted scope Calendly refuses all the same (a token narrowed at Calendly): its 403.
    Mock::given(method("GET"))
        .and(path("/event_types"))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({
            "title": "Permission Denied",
            "message": "The access token is missing the required scope: event_types:read",
        })))
        .mount(&app.calendly)
        .await;
    let response = app.get("/calendly/user-event-types").await;
    let (status, body) = json_of(response).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (424, Some("calendly_scope_missing")),
        "{body}"
    );
    assert!(
        body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("event_types:read")),
        "{body}"
    );
}

#[tokio::test]
async fn an_oauth_grant_without_users_read_stores_nothing() {
    let app = oauth_app(false).await;
    let query = start(&app, USER).await;
    token_endpoint_grants_scopes(&app, "narrow-access", "narrow-refresh", "event_types:read").await;
    Mock::given(method("POST"))
        .and(path("/oauth/revoke"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .mount(&app.calendly)
        .await;
    let response = complete(&app, USER, json!({"code": "c", "state": query["state"]})).await;
    assert_error(response, 424, "calendly_scope_missing").await;
    assert!(app.calendly_requests("/users/me").await.is_empty());
    let revoked = app.calendly_requests("/oauth/revoke").await;
    assert_eq!(revoked.len(), 1, "the grant is given back");
    assert!(String::from_utf8_lossy(&revoked[0].body).contains("token=narrow-refresh"));
    assert_eq!(connection_status(&app).await.0, 404);
}

const AVAILABILITY: &str =
    "/calendly/check-availability?start_time=2100-01-01T00:00:00Z&end_time=2100-01-02T00:00:00Z";

/// Calendly has one event type and, for `access` alone, no available times; any other token
/// is refused with its 401.
async fn calendly_answers_availability_for(app: &TestApp, access: &str) {
    app.calendly_has_event_types(&[calendly::event_type(
        "https://api.calendly.com/event_types/E1",
        "Intro",
    )])
    .await;
    Mock::given(method("GET"))
        .and(path("/event_type_available_times"))
        .and(header("authorization", format!("Bearer {access}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(calendly::available_times(&[])))
        .with_priority(3)
        .mount(&app.calendly)
        .await;
    Mock::given(method("GET"))
        .and(path("/event_type_available_times"))
        .respond_with(ResponseTemplate::new(401).set_body_json(calendly::error(401)))
        .with_priority(4)
        .mount(&app.calendly)
        .await;
}

fn refreshes(sent: &[HashMap<String, String>]) -> Vec<String> {
    sent.iter()
        .filter(|form| form["grant_type"] == "refresh_token")
        .map(|form| form["refresh_token"].clone())
        .collect()
}

async fn concurrently(app: &TestApp, requests: usize, path: &str) -> Vec<u16> {
    let mut answers = Vec::new();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..requests {
        let request = app.client.get(app.url(path)).bearer_auth(app.token(USER));
        tasks.spawn(async move { request.send().await.expect("sent").status().as_u16() });
    }
    while let Some(status) = tasks.join_next().await {
        answers.push(status.expect("task"));
    }
    answers
}

#[tokio::test]
async fn an_access_token_about_to_expire_is_renewed_once_and_the_new_pair_used() {
    let app = oauth_app(false).await;
    // Lives 2 s: renewed from its second half on.
    connect_with_oauth(&app, "access-1", "refresh-1", 2).await;
    calendly_answers_availability_for(&app, "access-1").await;
    assert_eq!(app.get(AVAILABILITY).await.status(), 200);
    assert!(
        refreshes(&token_requests(&app).await).is_empty(),
        "no renewal while fresh"
    );

    tokio::time::sleep(Duration::from_millis(1100)).await;
    token_endpoint_grants(&app, "refresh_token", "access-2", "refresh-2", 7200).await;
    calendly_answers_availability_for(&app, "access-2").await;
    let answers = concurrently(&app, 10, AVAILABILITY).await;
    assert!(answers.iter().all(|s| *s == 200), "{answers:?}");
    assert_eq!(refreshes(&token_requests(&app).await), ["refresh-1"]);
}

#[tokio::test]
async fn a_refused_access_token_is_renewed_once_and_the_call_made_once_more() {
    let app = oauth_app(false).await;
    connect_with_oauth(&app, "access-1", "refresh-1", 7200).await;
    // Calendly no longer takes access-1 (revoked on its side); it takes access-2.
    calendly_answers_availability_for(&app, "access-2").await;
    // Old enough to renew on a refusal.
    app.db
        .execute(
            "UPDATE calendly_connections SET access_token_issued_at = now() - interval '1 minute'",
        )
        .await;
    token_endpoint_grants(&app, "refresh_token", "access-2", "refresh-2", 7200).await;
    assert_eq!(app.get(AVAILABILITY).await.status(), 200);
    assert_eq!(refreshes(&token_requests(&app).await), ["refresh-1"]);

    // Refused again at once, the new token is not renewed in a loop: one call more, no refresh.
    app.calendly.reset().await;
    calendly_answers_availability_for(&app, "access-3").await;
    assert_error(app.get(AVAILABILITY).await, 424, "calendly_reauth_required").await;
    assert!(refreshes(&token_requests(&app).await).is_empty());
    assert_eq!(
        app.calendly_requests("/event_type_available_times")
            .await
            .len(),
        1
    );
}

#[tokio::test]
async fn a_refused_refresh_token_is_424_until_the_user_connects_again() {
    let app = oauth_app(false).await;
    connect_with_oauth(&app, "access-1", "refresh-1", 2).await;
    calendly_answers_availability_for(&app, "access-1").await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(400).set_body_json(
            json!({"error": "invalid_grant", "error_description": "The provided authorization grant is invalid"}),
        ))
        .mount(&app.calendly)
        .await;
    assert_error(app.get(AVAILABILITY).await, 424, "calendly_reauth_required").await;
    assert_error(app.get(AVAILABILITY).await, 424, "calendly_reauth_required").await;
    assert_eq!(
        refreshes(&token_requests(&app).await),
        ["refresh-1"],
        "refused once, never asked again"
    );

    app.calendly.reset().await;
    calendly::refuse_past_starts(&app.calendly).await;
    connect_with_oauth(&app, "access-9", "refresh-9", 7200).await;
    calendly_answers_availability_for(&app, "access-9").await;
    assert_eq!(app.get(AVAILABILITY).await.status(), 200);
}

#[tokio::test]
async fn disconnecting_revokes_and_a_failed_revoke_disconnects_all_the_same() {
    let app = oauth_app(false).await;
    connect_with_oauth(&app, "access-1", "refresh-1", 7200).await;
    Mock::given(method("POST"))
        .and(path("/oauth/revoke"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .up_to_n_times(1)
        .mount(&app.calendly)
        .await;
    let delete = || {
        app.client
            .delete(app.url("/calendly/connection"))
            .bearer_auth(app.token(USER))
            .send()
    };
    assert_eq!(delete().await.expect("sent").status(), 204);
    let revoked = app.calendly_requests("/oauth/revoke").await;
    assert_eq!(revoked.len(), 1);
    let form = String::from_utf8_lossy(&revoked[0].body).into_owned();
    assert!(
        form.contains("token=refresh-1") && form.contains(&format!("client_id={CLIENT_ID}")),
        "{form}"
    );
    assert_eq!(connection_status(&app).await.0, 404);

    connect_with_oauth(&app, "access-2", "refresh-2", 7200).await;
    Mock::given(method("POST"))
        .and(path("/oauth/revoke"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&app.calendly)
        .await;
    assert_eq!(delete().await.expect("sent").status(), 204);
    assert_eq!(connection_status(&app).await.0, 404);
}

/// End to end: actix lets the handler of an HTTP/1 request whose client went away run on, so
/// this passes with the renewal in the request too; the domain's
/// `a_renewal_is_stored_even_when_the_request_is_abandoned_while_it_runs` drops the request's
/// future half way.
#[tokio::test]
async fn a_renewal_is_stored_even_when_the_client_goes_away_before_it_ends() {
    let app = oauth_app(false).await;
    connect_with_oauth(&app, "access-1", "refresh-1", 2).await;
    calendly_answers_availability_for(&app, "access-2").await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    // Calendly takes a second to renew; the client gives up after a fifth of that.
    secrets_in_logs::register_secret("access-2");
    secrets_in_logs::register_secret("refresh-2");
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .and(body_string_contains("grant_type=refresh_token"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({
                    "token_type": "Bearer",
                    "access_token": "access-2",
                    "refresh_token": "refresh-2",
                    "expires_in": 7200,
                    "created_at": 1_700_000_000,
                    "owner": calendly::user_uri(),
                }))
                .set_delay(Duration::from_secs(1)),
        )
        .mount(&app.calendly)
        .await;
    let abandoned = app
        .client
        .get(app.url(AVAILABILITY))
        .bearer_auth(app.token(USER))
        .timeout(Duration::from_millis(200))
        .send()
        .await;
    assert!(abandoned.is_err(), "the client gave up");
    tokio::time::sleep(Duration::from_millis(1500)).await;

    // The pair Calendly answered was stored: the next request uses it, with no refresh.
    assert_eq!(app.get(AVAILABILITY).await.status(), 200);
    assert_eq!(refreshes(&token_requests(&app).await), ["refresh-1"]);
}
