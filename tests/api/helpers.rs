//! A running gateway for one test, with its own database and its own Calendly stand-in.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use adapters::jwt::JwtIssuer;
use app_http::{Application, Settings};
use chrono::{DateTime, DurationRound, SecondsFormat, TimeDelta, Utc};
use domain::UserId;
use secrecy::SecretString;
use serde_json::{Value, json};
use test_support::{TestDatabase, calendly};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::secrets_in_logs;

pub const JWT_SECRET: &str = "api-test-jwt-secret-with-enough-length-for-hs256";
/// base64 of 32 bytes of 9.
pub const ENCRYPTION_KEY: &str = "CQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQk=";
pub const CALENDLY_TOKEN: &str = "calendly-pat-of-the-test-user";
pub const USER: &str = "42";

/// An HTTP client for the tests themselves. Each request carries the test's name as its
/// `X-Request-Id` (unless it sets its own), so that the gateway's log lines name the test
/// (`secrets_in_logs`).
pub fn http_client() -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        "x-request-id",
        reqwest::header::HeaderValue::from_str(&secrets_in_logs::current_test())
            .expect("a visible ASCII id"),
    );
    client_builder()
        .default_headers(headers)
        .build()
        .expect("client")
}

/// A Calendly of the test's own, for what wiremock cannot script (an answer held until something
/// else happens): an actix-web server on a free port serving `routes`, and its address.
pub fn own_calendly<F>(routes: F) -> String
where
    F: Fn(&mut actix_web::web::ServiceConfig) + Send + Clone + 'static,
{
    let server =
        actix_web::HttpServer::new(move || actix_web::App::new().configure(routes.clone()))
            .workers(1)
            .bind(("127.0.0.1", 0))
            .expect("binds");
    let address = format!("http://{}", server.addrs()[0]);
    tokio::spawn(server.run());
    address
}

/// A client that shows redirects instead of following them, as the tests of a browser's way
/// through OAuth need.
pub fn browser() -> reqwest::Client {
    client_builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// A redirect's `Location`.
pub fn location(response: &reqwest::Response) -> String {
    response.headers()["location"]
        .to_str()
        .expect("ASCII")
        .to_owned()
}

/// Midnight UTC `days` from now: ranges in the future, whenever the tests run.
pub fn days_ahead(days: i64) -> DateTime<Utc> {
    (Utc::now() + TimeDelta::days(days))
        .duration_trunc(TimeDelta::days(1))
        .expect("truncates")
}

/// As Calendly writes times, and as the gateway sends them.
pub fn calendly_time(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// An HTTP client that sends no `X-Request-Id`.
pub fn plain_http_client() -> reqwest::Client {
    client_builder().build().expect("client")
}

fn client_builder() -> reqwest::ClientBuilder {
    adapters::calendly::install_tls_provider();
    reqwest::Client::builder().timeout(Duration::from_secs(30))
}

pub fn workspace_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub calendly: MockServer,
    pub db: TestDatabase,
    issuer: JwtIssuer,
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// A gateway on the project's own configuration files, pointed at this test's database
    /// and Calendly stand-in; `customize` may change anything else.
    pub async fn spawn_with(customize: impl FnOnce(&mut Settings)) -> Self {
        Self::spawn_on(customize, None).await
    }

    /// The same gateway asking `scheduling` instead of Calendly.
    pub async fn spawn_with_scheduling(
        scheduling: std::sync::Arc<dyn domain::SchedulingProvider>,
    ) -> Self {
        Self::spawn_on(|_| {}, Some(scheduling)).await
    }

    async fn spawn_on(
        customize: impl FnOnce(&mut Settings),
        scheduling: Option<std::sync::Arc<dyn domain::SchedulingProvider>>,
    ) -> Self {
        secrets_in_logs::install();
        let db = TestDatabase::create().await;
        let calendly = MockServer::start().await;
        calendly::refuse_past_starts(&calendly).await;
        let mut settings =
            Settings::load_from(&workspace_dir().join("config"), "local", HashMap::new())
                .expect("configuration loads");
        settings.server.port = 0;
        settings.server.workers = 1;
        settings.database.url = SecretString::from(db.url());
        settings.database.pool_max_size = 4;
        settings.calendly.api_base_url = calendly.uri();
        settings.calendly.timeout_ms = 2000;
        settings.calendly.token_encryption_key = Some(SecretString::from(ENCRYPTION_KEY));
        settings.auth.jwt_secret = SecretString::from(JWT_SECRET);
        // Most tests look at what each question asks of Calendly: those of the availability
        // cache turn it on.
        settings.cache.availability_ttl_secs = 0;
        customize(&mut settings);

        let application = match scheduling {
            Some(scheduling) => Application::build_with_scheduling(settings, scheduling).await,
            None => Application::build(settings).await,
        }
        .expect("application builds");
        let address = format!("http://127.0.0.1:{}", application.port());
        tokio::spawn(application.run_until_stopped());
        Self {
            address,
            client: http_client(),
            calendly,
            db,
            issuer: JwtIssuer::new(&SecretString::from(JWT_SECRET)),
        }
    }

    pub fn token(&self, user: &str) -> String {
        let token = self.issuer.issue(
            &UserId::parse(user).expect("user id"),
            Duration::from_secs(600),
        );
        secrets_in_logs::register_secret(&token);
        token
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// GET `path` as `user`.
    pub async fn get_as(&self, user: &str, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .bearer_auth(self.token(user))
            .send()
            .await
            .expect("request sent")
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.get_as(USER, path).await
    }

    pub async fn put_connection_as(&self, user: &str, body: &Value) -> reqwest::Response {
        if let Some(token) = body["personal_access_token"].as_str() {
            secrets_in_logs::register_secret(token.trim());
        }
        self.client
            .put(self.url("/calendly/connection"))
            .bearer_auth(self.token(user))
            .json(body)
            .send()
            .await
            .expect("request sent")
    }

    /// Calendly answers `/users/me` with its documented example.
    pub async fn calendly_knows_the_user(&self) {
        Mock::given(method("GET"))
            .and(path("/users/me"))
            .respond_with(ResponseTemplate::new(200).set_body_json(calendly::users_me()))
            .mount(&self.calendly)
            .await;
    }

    /// Connects `USER`'s Calendly account, as the web client does.
    pub async fn connect(&self) {
        self.calendly_knows_the_user().await;
        let response = self
            .put_connection_as(USER, &json!({ "personal_access_token": CALENDLY_TOKEN }))
            .await;
        assert_eq!(
            response.status(),
            200,
            "connect: {}",
            response.text().await.unwrap_or_default()
        );
    }

    /// Calendly lists `event_types` for the documented user, in one page.
    pub async fn calendly_has_event_types(&self, event_types: &[Value]) {
        Mock::given(method("GET"))
            .and(path("/event_types"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(calendly::event_types_page(event_types, None)),
            )
            .mount(&self.calendly)
            .await;
    }

    /// The requests Calendly received at `path`.
    pub async fn calendly_requests(&self, at: &str) -> Vec<wiremock::Request> {
        self.calendly
            .received_requests()
            .await
            .unwrap_or_default()
            .into_iter()
            .filter(|r| r.url.path() == at)
            .collect()
    }
}

impl Drop for TestApp {
    /// Whatever the test did, no log line may have held a secret.
    fn drop(&mut self) {
        if !std::thread::panicking() {
            secrets_in_logs::assert_no_secret_logged();
        }
    }
}

/// The detail of "no Calendly connection", as the original service worded it.
pub const NOT_CONNECTED: &str = "No PAT token found. Please connect your Calendly account.";

/// Asserts the contract's answer for a user without a Calendly connection.
pub async fn assert_not_connected(response: reqwest::Response) {
    assert_eq!(
        assert_error(response, 404, "calendly_not_connected").await,
        NOT_CONNECTED
    );
}

/// Status and JSON body of a response.
pub async fn json_of(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    let body =
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text:?}"));
    (status, body)
}

/// Asserts an error body of the contract: `{"detail": …, "code": code}`.
pub async fn assert_error(response: reqwest::Response, status: u16, code: &str) -> Value {
    let (actual, body) = json_of(response).await;
    assert_eq!(
        (actual, body["code"].as_str()),
        (status, Some(code)),
        "{body}"
    );
    assert!(body.get("detail").is_some(), "{body}");
    body["detail"].clone()
}

/// A check-availability path for next week's UTC calendar week, Monday to Monday: one window
/// of the availability cache.
pub fn next_week_check() -> String {
    use chrono::Datelike as _;
    let today = chrono::Utc::now().date_naive();
    let monday = today - chrono::TimeDelta::days(i64::from(today.weekday().num_days_from_monday()))
        + chrono::TimeDelta::days(7);
    format!(
        "/calendly/check-availability?start_time={monday}T00:00:00Z&end_time={}T00:00:00Z",
        monday + chrono::TimeDelta::days(7)
    )
}

/// GET `path` at `gateway` (an address) as `bearer`: the status and the JSON body.
pub async fn get_json(gateway: &str, bearer: &str, path: &str) -> (u16, Value) {
    json_of(
        http_client()
            .get(format!("http://{gateway}{path}"))
            .bearer_auth(bearer)
            .send()
            .await
            .expect("sent"),
    )
    .await
}

/// The value of the series `series` (name and labels) at `gateway`'s `/metrics`; 0 if absent.
pub async fn metric_at(gateway: &str, series: &str) -> u64 {
    let metrics = http_client()
        .get(format!("http://{gateway}/metrics"))
        .send()
        .await
        .expect("sent")
        .text()
        .await
        .expect("text");
    let series = format!("{series} ");
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(&series))
        .map_or(0, |count| count.trim().parse().expect("a count"))
}
