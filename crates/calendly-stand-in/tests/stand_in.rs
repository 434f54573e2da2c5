//! The stand-in binary, as the benchmark and the end-to-end runs use it: as strict as Calendly.

use chrono::{SecondsFormat, TimeDelta, Utc};
use serde_json::{Value, json};

mod support;
use support::{StandIn, client, get, user_uri};

async fn available_times(stand_in: &StandIn, start: chrono::DateTime<Utc>) -> (u16, Value) {
    let client = client();
    let user: Value = client
        .get(format!("{}/users/me", stand_in.address))
        .bearer_auth("a-token")
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    let user_uri = user["resource"]["uri"].as_str().expect("uri");
    let event_type = user_uri.replace("/users/", "/event_types/") + "-0";
    let time = |t: chrono::DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Micros, true);
    let response = client
        .get(format!("{}/event_type_available_times", stand_in.address))
        .bearer_auth("a-token")
        .query(&[
            ("event_type", event_type.as_str()),
            ("start_time", &time(start)),
            ("end_time", &time(start + TimeDelta::days(7))),
        ])
        .send()
        .await
        .expect("sent");
    let status = response.status().as_u16();
    (status, response.json().await.expect("json"))
}

#[tokio::test]
async fn a_start_just_past_is_refused_as_calendly_refuses_it() {
    let stand_in = StandIn::start();
    let (status, body) = available_times(&stand_in, Utc::now() - TimeDelta::seconds(1)).await;
    assert_eq!(
        (status, body),
        (
            400,
            json!({
                "title": "Invalid Argument",
                "message": "The supplied parameters are invalid.",
                "details": [{ "parameter": "start_time", "message": "must be in the future" }]
            })
        )
    );
}

#[tokio::test]
async fn a_start_ahead_is_answered() {
    let stand_in = StandIn::start();
    let (status, body) = available_times(&stand_in, Utc::now() + TimeDelta::minutes(1)).await;
    assert_eq!(status, 200, "{body}");
    assert!(!body["collection"].as_array().expect("a list").is_empty());
}

// --- OAuth --------------------------------------------------------------------------------

const CLIENT_ID: &str = "stand-in-client";
const CLIENT_SECRET: &str = "stand-in-client-secret";
const REDIRECT_URI: &str = "https://gateway.example/calendly/oauth/callback";

/// PKCE's S256 challenge of `verifier`.
fn challenge(verifier: &str) -> String {
    use base64::Engine as _;
    use sha2::Digest as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier))
}

/// Follows `/oauth/authorize` as a browser would: the `Location` it sends the browser to.
async fn authorize(stand_in: &StandIn, verifier: &str) -> reqwest::Url {
    authorize_with(stand_in, verifier, &[]).await
}

/// [`authorize`] with `extra` parameters (such as `scope`).
async fn authorize_with(
    stand_in: &StandIn,
    verifier: &str,
    extra: &[(&str, &str)],
) -> reqwest::Url {
    let response = client()
        .get(format!("{}/oauth/authorize", stand_in.address))
        .query(&[
            ("client_id", CLIENT_ID),
            ("response_type", "code"),
            ("redirect_uri", REDIRECT_URI),
            ("code_challenge", &challenge(verifier)),
            ("code_challenge_method", "S256"),
            ("state", "the-state"),
        ])
        .query(extra)
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 302);
    let location = response.headers()["location"].to_str().expect("text");
    reqwest::Url::parse(location).expect("a URL")
}

fn param(url: &reqwest::Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

async fn token(stand_in: &StandIn, form: &[(&str, &str)]) -> (u16, Value) {
    let response = client()
        .post(format!("{}/oauth/token", stand_in.address))
        .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
        .form(form)
        .send()
        .await
        .expect("sent");
    let status = response.status().as_u16();
    (status, response.json().await.expect("json"))
}

/// `POST /oauth/token` exchanging `code` with `verifier`.
async fn exchange(stand_in: &StandIn, code: &str, verifier: &str) -> (u16, Value) {
    token(
        stand_in,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", verifier),
        ],
    )
    .await
}

async fn users_me_status(stand_in: &StandIn, access_token: &str) -> u16 {
    client()
        .get(format!("{}/users/me", stand_in.address))
        .bearer_auth(access_token)
        .send()
        .await
        .expect("sent")
        .status()
        .as_u16()
}

#[tokio::test]
async fn the_code_flow_with_pkce_then_refresh_tokens_that_work_once() {
    let stand_in = StandIn::start();
    let verifier = "a-verifier-of-enough-length-for-pkce-0123456789";
    let back = authorize(&stand_in, verifier).await;
    assert!(back.as_str().starts_with(REDIRECT_URI), "{back}");
    assert_eq!(param(&back, "state").as_deref(), Some("the-state"));
    let code = param(&back, "code").expect("a code");

    // A wrong verifier is refused, and spends the code: the right one comes too late.
    let (status, body) = exchange(&stand_in, &code, "not-the-verifier").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let (status, _) = exchange(&stand_in, &code, verifier).await;
    assert_eq!(status, 400, "a code works once");

    let code = param(&authorize(&stand_in, verifier).await, "code").expect("a code");
    let (status, pair) = exchange(&stand_in, &code, verifier).await;
    assert_eq!(status, 200, "{pair}");
    assert_eq!(pair["token_type"], "Bearer");
    assert_eq!(pair["expires_in"], 7200);
    assert!(
        pair["owner"]
            .as_str()
            .is_some_and(|o| o.starts_with("https://api.calendly.com/users/"))
    );
    let access = pair["access_token"].as_str().expect("access token");
    assert_eq!(users_me_status(&stand_in, access).await, 200);

    let refresh = pair["refresh_token"].as_str().expect("refresh token");
    let renew = [("grant_type", "refresh_token"), ("refresh_token", refresh)];
    let (status, renewed) = token(&stand_in, &renew).await;
    assert_eq!(status, 200, "{renewed}");
    assert_ne!(renewed["refresh_token"], pair["refresh_token"]);
    let (status, body) = token(&stand_in, &renew).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "a refresh token works once"
    );

    let stats: Value = client()
        .get(format!("{}/stats", stand_in.address))
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    assert_eq!(stats["oauth_authorize"], 2);
    assert_eq!(stats["oauth_token_authorization_code"], 3);
    assert_eq!(stats["oauth_token_refresh_token"], 2);
}

#[tokio::test]
async fn access_tokens_expire_and_revoked_tokens_stop_working() {
    let stand_in = StandIn::start_with(&["--access-token-ttl-secs", "1"]);
    let verifier = "another-verifier-of-enough-length-for-pkce-0123";
    let code = param(&authorize(&stand_in, verifier).await, "code").expect("a code");
    let (_, pair) = exchange(&stand_in, &code, verifier).await;
    let access = pair["access_token"].as_str().expect("access token");
    assert_eq!(users_me_status(&stand_in, access).await, 200);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(users_me_status(&stand_in, access).await, 401, "expired");

    let refresh = pair["refresh_token"].as_str().expect("refresh token");
    let response = client()
        .post(format!("{}/oauth/revoke", stand_in.address))
        .form(&[
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
            ("token", refresh),
        ])
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 200);
    let (status, body) = token(
        &stand_in,
        &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
}

#[tokio::test]
async fn a_user_who_declines_comes_back_with_access_denied_and_bad_clients_are_refused() {
    let stand_in = StandIn::start_with(&["--deny-authorization"]);
    let back = authorize(&stand_in, "a-verifier-0123456789-0123456789-0123456789").await;
    assert_eq!(param(&back, "error").as_deref(), Some("access_denied"));
    assert_eq!(param(&back, "state").as_deref(), Some("the-state"));
    assert_eq!(param(&back, "code"), None);

    let response = client()
        .post(format!("{}/oauth/token", stand_in.address))
        .basic_auth(CLIENT_ID, Some("not-the-secret"))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", "x")])
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 401);
}

#[tokio::test]
async fn event_types_have_distinct_durations_and_every_fourth_is_inactive() {
    let stand_in = StandIn::start();
    let user = user_uri(&stand_in, "a-token").await;
    let (status, page) = get(&stand_in, "a-token", "/event_types", &[("user", &user)]).await;
    assert_eq!(status, 200);
    let collection = page["collection"].as_array().expect("a list");
    let durations: Vec<u64> = collection
        .iter()
        .map(|e| e["duration"].as_u64().expect("minutes"))
        .collect();
    let active: Vec<bool> = collection
        .iter()
        .map(|e| e["active"].as_bool().expect("a flag"))
        .collect();
    assert_eq!(durations, [15, 30, 45, 60]);
    assert_eq!(active, [true, true, true, false]);
}

#[tokio::test]
async fn busy_times_are_answered_for_seven_days_at_most_and_schedules_for_the_user() {
    let stand_in = StandIn::start();
    let user = user_uri(&stand_in, "a-token").await;
    let time = |t: chrono::DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Micros, true);
    let start = (Utc::now() + TimeDelta::days(1))
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .expect("midnight")
        .and_utc();
    let week = [
        ("user", user.as_str()),
        ("start_time", &time(start)),
        ("end_time", &time(start + TimeDelta::days(7))),
    ];
    let (status, busy) = get(&stand_in, "a-token", "/user_busy_times", &week).await;
    assert_eq!(status, 200, "{busy}");
    let busy = busy["collection"].as_array().expect("a list").clone();
    // A Calendly event each day, and one external event (on the week's Wednesday).
    assert_eq!(busy.iter().filter(|b| b["type"] == "calendly").count(), 7);
    assert_eq!(busy.iter().filter(|b| b["type"] == "external").count(), 1);
    assert!(
        busy.iter()
            .all(|b| b["start_time"].as_str() < b["end_time"].as_str())
    );

    let eight_days = [
        ("user", user.as_str()),
        ("start_time", &time(start)),
        ("end_time", &time(start + TimeDelta::days(8))),
    ];
    let (status, refused) = get(&stand_in, "a-token", "/user_busy_times", &eight_days).await;
    assert_eq!(status, 400);
    assert_eq!(refused["details"][0]["parameter"], "end_time");
    let past = [
        ("user", user.as_str()),
        ("start_time", &time(Utc::now() - TimeDelta::hours(1))),
        ("end_time", &time(start)),
    ];
    assert_eq!(
        get(&stand_in, "a-token", "/user_busy_times", &past).await.0,
        400
    );
    let (status, _) = get(&stand_in, "another-token", "/user_busy_times", &week).await;
    assert_eq!(status, 403, "another user's busy times");

    let (status, schedules) = get(
        &stand_in,
        "a-token",
        "/user_availability_schedules",
        &[("user", &user)],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(schedules["collection"][0]["user"], json!(user));
    assert_eq!(
        schedules["collection"][0]["rules"].as_array().map(Vec::len),
        Some(7)
    );

    let (_, stats) = get(&stand_in, "a-token", "/stats", &[]).await;
    assert_eq!(
        (
            stats["user_busy_times"].as_u64(),
            stats["user_availability_schedules"].as_u64()
        ),
        (Some(4), Some(1))
    );
}

#[tokio::test]
async fn every_answer_carries_the_rate_limit_and_past_it_calendlys_429() {
    let stand_in = StandIn::start_with(&["--rate-limit-per-minute", "3"]);
    let client = client();
    let mut seen = Vec::new();
    for token in ["a-token", "a-token", "a-token", "a-token", "another-token"] {
        let response = client
            .get(format!("{}/users/me", stand_in.address))
            .bearer_auth(token)
            .send()
            .await
            .expect("sent");
        let header = |name: &str| -> u64 {
            response.headers()[name]
                .to_str()
                .expect("text")
                .parse()
                .expect("a number")
        };
        assert_eq!(header("x-ratelimit-limit"), 3);
        assert!((1..=60).contains(&header("x-ratelimit-reset")));
        seen.push((response.status().as_u16(), header("x-ratelimit-remaining")));
    }
    assert_eq!(seen, [(200, 2), (200, 1), (200, 0), (429, 0), (200, 2)]);
    let stats: Value = client
        .get(format!("{}/stats", stand_in.address))
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    assert_eq!(stats["rate_limited"], 1);
    assert_eq!(stats["users_me"], 4);
}

const VERIFIER: &str = "a-verifier-of-enough-length-for-pkce-0123456789";

/// An OAuth access token asking for `scope` (none: not asked), and the token answer.
async fn oauth_token(stand_in: &StandIn, scope: Option<&str>) -> (String, Value) {
    let extra: Vec<(&str, &str)> = scope.map(|s| ("scope", s)).into_iter().collect();
    let back = authorize_with(stand_in, VERIFIER, &extra).await;
    let code = param(&back, "code").expect("a code");
    let (status, pair) = exchange(stand_in, &code, VERIFIER).await;
    assert_eq!(status, 200, "{pair}");
    (
        pair["access_token"].as_str().expect("token").to_owned(),
        pair,
    )
}

#[tokio::test]
async fn scopes_asked_for_are_granted_reported_and_enforced_as_calendly_does() {
    let stand_in = StandIn::start();
    let (access, pair) = oauth_token(&stand_in, Some("users:read event_types:read")).await;
    assert_eq!(pair["scope"], "users:read event_types:read");
    let user = user_uri(&stand_in, &access).await;
    let (status, _) = get(&stand_in, &access, "/event_types", &[("user", &user)]).await;
    assert_eq!(status, 200);
    let (status, body) = get(
        &stand_in,
        &access,
        "/user_availability_schedules",
        &[("user", &user)],
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["title"], "Permission Denied");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("availability:read")),
        "{body}"
    );
    let (status, _) = get(
        &stand_in,
        &access,
        "/webhook_subscriptions",
        &[("user", &user)],
    )
    .await;
    assert_eq!(status, 403);
    // A refreshed pair keeps the grant's scopes.
    let refresh = pair["refresh_token"].as_str().expect("refresh token");
    let (_, renewed) = token(
        &stand_in,
        &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
    )
    .await;
    assert_eq!(renewed["scope"], "users:read event_types:read");
    // A write scope holds its read scope.
    let (writer, _) = oauth_token(&stand_in, Some("users:read webhooks:write")).await;
    let user = user_uri(&stand_in, &writer).await;
    let (status, _) = get(
        &stand_in,
        &writer,
        "/webhook_subscriptions",
        &[("user", &user)],
    )
    .await;
    assert_eq!(status, 200);
    // Asking for none: every scope, answered as `default` (applications made before scopes).
    let (_, legacy) = oauth_token(&stand_in, None).await;
    assert_eq!(legacy["scope"], "default");
    // Personal access tokens: `scoped[…]` ones have those listed, others every one.
    let (status, _) = get(&stand_in, "scoped[users:read]pat", "/users/me", &[]).await;
    assert_eq!(status, 200);
    let pat_user = user_uri(&stand_in, "scoped[users:read]pat").await;
    let (status, _) = get(
        &stand_in,
        "scoped[users:read]pat",
        "/event_types",
        &[("user", &pat_user)],
    )
    .await;
    assert_eq!(status, 403);
    let stats = stats(&stand_in).await;
    assert_eq!(stats["scope_refusals"], 3);
}

async fn stats(stand_in: &StandIn) -> Value {
    client()
        .get(format!("{}/stats", stand_in.address))
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json")
}

/// Subscribes the user of `token` with deliveries to `url`, sending `signing_key`: its URI.
async fn subscribe(stand_in: &StandIn, token: &str, url: &str, signing_key: &str) -> String {
    let user = user_uri(stand_in, token).await;
    let response = client()
        .post(format!("{}/webhook_subscriptions", stand_in.address))
        .bearer_auth(token)
        .json(&json!({
            "url": url, "events": ["invitee.created"], "scope": "user", "user": user,
            "organization": user.replace("/users/", "/organizations/"),
            "signing_key": signing_key,
        }))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.expect("json");
    created["resource"]["uri"].as_str().expect("uri").to_owned()
}

/// A booking of `token`'s user's first event type at the stand-in: the deliveries' statuses.
async fn book(stand_in: &StandIn, token: &str) -> Value {
    let user = user_uri(stand_in, token).await;
    let start = (Utc::now() + TimeDelta::days(2)).to_rfc3339_opts(SecondsFormat::Secs, true);
    client()
        .post(format!("{}/admin/book", stand_in.address))
        .json(&json!({"event_type": user.replace("/users/", "/event_types/") + "-0", "start_time": start}))
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json")
}

/// The state of the subscription at `uri`, as its user's `token` reads it (404: gone).
async fn subscription_state(stand_in: &StandIn, token: &str, uri: &str) -> (u16, Value) {
    let uuid = uri.rsplit('/').next().expect("uuid");
    let (status, body) = get(
        stand_in,
        token,
        &format!("/webhook_subscriptions/{uuid}"),
        &[],
    )
    .await;
    (status, body["resource"]["state"].clone())
}

/// Whether `header` is the signature of `body` under `key`.
fn signed_by(header: &str, body: &[u8], key: &str) -> bool {
    use hmac::Mac as _;
    let t = header
        .split(',')
        .find_map(|p| p.strip_prefix("t="))
        .expect("t");
    let v1 = header
        .split(',')
        .find_map(|p| p.strip_prefix("v1="))
        .expect("v1");
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes()).expect("key");
    mac.update(format!("{t}.").as_bytes());
    mac.update(body);
    let expected: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    expected == v1
}

#[tokio::test]
async fn oauth_subscriptions_are_signed_with_the_applications_key_and_a_pats_with_its_own() {
    use wiremock::matchers::method;
    use wiremock::{Mock, MockServer, ResponseTemplate};

    let stand_in = StandIn::start_with(&["--oauth-webhook-signing-key", "the-apps-key"]);
    let receiver = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&receiver)
        .await;
    let (access, _) = oauth_token(&stand_in, None).await;
    subscribe(
        &stand_in,
        &access,
        &format!("{}/oauth-hook", receiver.uri()),
        "sent-along",
    )
    .await;
    subscribe(
        &stand_in,
        "a-pat",
        &format!("{}/pat-hook", receiver.uri()),
        "the-pats-key",
    )
    .await;
    book(&stand_in, &access).await;
    book(&stand_in, "a-pat").await;
    let received = receiver.received_requests().await.expect("recorded");
    assert_eq!(received.len(), 2);
    for request in &received {
        let header = request.headers["calendly-webhook-signature"]
            .to_str()
            .expect("text");
        let (right, wrong) = if request.url.path() == "/oauth-hook" {
            ("the-apps-key", "sent-along")
        } else {
            ("the-pats-key", "the-apps-key")
        };
        assert!(
            signed_by(header, &request.body, right),
            "{} under {right}",
            request.url
        );
        assert!(!signed_by(header, &request.body, wrong), "{}", request.url);
    }
}

#[tokio::test]
async fn failing_deliveries_disable_a_subscription_and_410_deletes_it() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    let stand_in = StandIn::start_with(&["--webhook-disable-after-secs", "1"]);
    let receiver = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/failing"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&receiver)
        .await;
    Mock::given(method("POST"))
        .and(path("/gone"))
        .respond_with(ResponseTemplate::new(410))
        .mount(&receiver)
        .await;
    let failing = subscribe(
        &stand_in,
        "pat-a",
        &format!("{}/failing", receiver.uri()),
        "k",
    )
    .await;
    let gone = subscribe(&stand_in, "pat-b", &format!("{}/gone", receiver.uri()), "k").await;

    book(&stand_in, "pat-a").await;
    let (status, state) = subscription_state(&stand_in, "pat-a", &failing).await;
    assert_eq!(
        (status, state.as_str()),
        (200, Some("active")),
        "failing, not yet for long"
    );
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    book(&stand_in, "pat-a").await;
    let (_, state) = subscription_state(&stand_in, "pat-a", &failing).await;
    assert_eq!(state, "disabled");
    let before = receiver.received_requests().await.expect("recorded").len();
    let deliveries = book(&stand_in, "pat-a").await;
    assert_eq!(
        deliveries["deliveries"],
        json!([]),
        "a disabled subscription gets nothing"
    );
    assert_eq!(
        receiver.received_requests().await.expect("recorded").len(),
        before
    );

    book(&stand_in, "pat-b").await;
    let (status, _) = subscription_state(&stand_in, "pat-b", &gone).await;
    assert_eq!(status, 404, "answered 410: deleted");
}

#[tokio::test]
async fn subscriptions_can_be_disabled_and_refused_from_the_admin_side() {
    let stand_in = StandIn::start();
    let uri = subscribe(&stand_in, "pat-c", "https://gateway.example/hook", "k").await;
    let user = user_uri(&stand_in, "pat-c").await;
    let answer: Value = client()
        .post(format!("{}/admin/disable_subscriptions", stand_in.address))
        .json(&json!({"user": user}))
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    assert_eq!(answer["disabled"], 1);
    assert_eq!(
        subscription_state(&stand_in, "pat-c", &uri).await.1,
        "disabled"
    );
    let refused = client()
        .post(format!("{}/admin/refuse_subscriptions", stand_in.address))
        .json(&json!({"count": 1}))
        .send()
        .await
        .expect("sent");
    assert_eq!(refused.status(), 200);
    let make = || {
        client()
            .post(format!("{}/webhook_subscriptions", stand_in.address))
            .bearer_auth("pat-c")
            .json(&json!({
                "url": "https://gateway.example/another", "events": ["invitee.created"],
                "scope": "user", "user": user, "organization": "o",
            }))
            .send()
    };
    assert_eq!(make().await.expect("sent").status(), 500);
    assert_eq!(make().await.expect("sent").status(), 201);
}
