//! The `calendly-gateway` binary itself: its commands, as an operator runs them.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use adapters::jwt::JwtUserAuth;
use domain::UserAuth;
use secrecy::SecretString;
use serde_json::json;
use test_support::{TestDatabase, TestSqliteFile, calendly};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{CALENDLY_TOKEN, ENCRYPTION_KEY, JWT_SECRET, http_client, workspace_dir};
use crate::secrets_in_logs;

/// The binary, run from the workspace (where `config/` is) with only the given environment.
pub(crate) fn gateway(args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_calendly-gateway"));
    command
        .args(args)
        .current_dir(workspace_dir())
        .env_clear()
        .envs(env.iter().copied())
        .stdin(Stdio::null());
    command
}

#[test]
fn token_prints_one_valid_token_and_nothing_else() {
    let output = gateway(&["token", "--user-id", "42", "--ttl-secs", "120"], &[])
        .output()
        .expect("runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).expect("utf-8");
    assert_eq!(stdout.lines().count(), 1, "{stdout:?}");

    let local_secret = SecretString::from("local-development-jwt-secret-do-not-use-in-production");
    let user = JwtUserAuth::new(&local_secret)
        .authenticate(stdout.trim())
        .expect("valid");
    assert_eq!(user.as_str(), "42");
}

#[test]
fn production_refuses_to_start_without_its_secrets_and_says_which() {
    let output = gateway(&["migrate"], &[("APP_ENV", "production")])
        .output()
        .expect("runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("APP__AUTH__JWT_SECRET"), "{stderr}");

    let output = gateway(
        &["token", "--user-id", "1"],
        &[
            ("APP_ENV", "production"),
            (
                "APP__AUTH__JWT_SECRET",
                "local-development-jwt-secret-do-not-use-in-production",
            ),
            ("APP__CALENDLY__TOKEN_ENCRYPTION_KEY", ENCRYPTION_KEY),
        ],
    )
    .output()
    .expect("runs");
    assert!(!output.status.success());
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("auth.jwt_secret") && stderr.contains("development"),
        "{stderr}"
    );
}

#[tokio::test]
async fn migrate_applies_the_migrations_and_exits_0() {
    let db = TestDatabase::create().await;
    for _ in 0..2 {
        let status = gateway(&["migrate"], &[("APP__DATABASE__URL", db.url())])
            .stdout(Stdio::null())
            .status()
            .expect("runs");
        assert!(status.success());
    }
}

#[tokio::test]
async fn instances_migrating_at_once_all_succeed() {
    let db = TestDatabase::create().await;
    let mut children: Vec<Child> = (0..4)
        .map(|_| {
            gateway(&["migrate"], &[("APP__DATABASE__URL", db.url())])
                .stdout(Stdio::null())
                .spawn()
                .expect("starts")
        })
        .collect();
    for child in &mut children {
        let status = wait_with_timeout(child, Duration::from_secs(60));
        assert!(status.success(), "{status:?}");
    }
}

/// The server's log, line by line, from a thread that reads its stdout.
pub(crate) fn log_lines(child: &mut Child) -> mpsc::Receiver<String> {
    let stdout = child.stdout.take().expect("stdout piped");
    let (sender, receiver) = mpsc::channel();
    // Named after the test, so that a line outside any request is blamed on it.
    std::thread::Builder::new()
        .name(secrets_in_logs::current_test())
        .spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                secrets_in_logs::check_line(&line);
                // The test may have stopped reading; the rest is still checked.
                let _ = sender.send(line);
            }
        })
        .expect("a log reader");
    receiver
}

/// The first log line that contains every one of `needles`, within 30 seconds.
pub(crate) fn log_line_with(log: &mpsc::Receiver<String>, needles: &[&str]) -> String {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let line = log
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("no log line with {needles:?}"));
        if needles.iter().all(|needle| line.contains(needle)) {
            return line;
        }
    }
}

/// A running server, killed if the test ends without stopping it (a failed assertion, say), so
/// that no server outlives its test.
pub(crate) struct Server(Option<Child>);

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if !std::thread::panicking() {
            secrets_in_logs::assert_no_secret_logged();
        }
    }
}

/// Starts `serve`, waits until it listens, and returns the process, its address and its log.
pub(crate) fn serve(env: &[(&str, &str)]) -> (Server, String, mpsc::Receiver<String>) {
    secrets_in_logs::install();
    for (name, value) in env {
        if name.contains("SECRET") || name.contains("KEY") {
            secrets_in_logs::register_secret(value);
        }
    }
    let mut child = gateway(&["serve"], env)
        .stdout(Stdio::piped())
        .spawn()
        .expect("starts");
    let log = log_lines(&mut child);
    let server = Server(Some(child));
    let line = log_line_with(&log, &["listening on http://"]);
    let address = line
        .split("listening on http://")
        .nth(1)
        .map(|rest| {
            // The host and port, whether the line is text or JSON.
            rest.chars()
                .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | ':' | '[' | ']'))
                .collect::<String>()
        })
        .expect("an address");
    (server, address, log)
}

/// SIGTERM, then the exit status.
fn stop(mut server: Server) -> std::process::ExitStatus {
    let mut server = server.0.take().expect("running");
    let pid = server.id().to_string();
    let killed = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    wait_with_timeout(&mut server, Duration::from_secs(30))
}

pub(crate) fn access_token(env: &[(&str, &str)], user: &str) -> String {
    let output = gateway(&["token", "--user-id", user], env)
        .output()
        .expect("runs");
    let token = String::from_utf8(output.stdout)
        .expect("utf-8")
        .trim()
        .to_owned();
    secrets_in_logs::register_secret(&token);
    token
}

async fn calendly_stand_in() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/users/me"))
        .respond_with(ResponseTemplate::new(200).set_body_json(calendly::users_me()))
        .mount(&server)
        .await;
    server
}

async fn connect(address: &str, token: &str) {
    let connected = http_client()
        .put(format!("http://{address}/calendly/connection"))
        .bearer_auth(token)
        .header("x-request-id", "e2e-connect-request")
        .json(&json!({ "personal_access_token": CALENDLY_TOKEN }))
        .send()
        .await
        .expect("sent");
    assert_eq!(connected.status(), 200);
}

async fn user_uri(address: &str, token: &str) -> String {
    http_client()
        .get(format!("http://{address}/calendly/user"))
        .bearer_auth(token)
        .send()
        .await
        .expect("sent")
        .json::<String>()
        .await
        .expect("a JSON string")
}

#[tokio::test]
async fn serve_works_end_to_end_on_postgres_and_stops_gracefully_on_sigterm() {
    let db = TestDatabase::create().await;
    let calendly_stand_in = calendly_stand_in().await;
    let env = [
        ("APP__SERVER__PORT", "0"),
        ("APP__DATABASE__URL", db.url()),
        ("APP__CALENDLY__API_BASE_URL", &calendly_stand_in.uri()),
        ("APP__AUTH__JWT_SECRET", JWT_SECRET),
        ("APP__CALENDLY__TOKEN_ENCRYPTION_KEY", ENCRYPTION_KEY),
    ];
    let token = access_token(&env, "7");
    let (server, address, log) = serve(&env);

    connect(&address, &token).await;
    assert_eq!(user_uri(&address, &token).await, calendly::user_uri());
    // The use case's log line carries the request's id, and never the Calendly token.
    let line = log_line_with(&log, &["Calendly account connected"]);
    assert!(line.contains("e2e-connect-request"), "{line}");
    assert!(!line.contains(CALENDLY_TOKEN), "{line}");

    let status = stop(server);
    assert!(status.success(), "{status:?}");
}

#[tokio::test]
async fn json_logs_carry_the_request_id_on_the_request_s_lines() {
    let file = TestSqliteFile::create();
    let url = file.url();
    let calendly_stand_in = calendly_stand_in().await;
    let stand_in_uri = calendly_stand_in.uri();
    let env = env_with(
        &development_env(&url, &stand_in_uri),
        &[("APP__LOG__FORMAT", "json")],
    );
    let token = access_token(&env, "7");
    let (server, address, log) = serve(&env);
    connect(&address, &token).await;

    let line = log_line_with(&log, &["Calendly account connected"]);
    let entry: serde_json::Value = serde_json::from_str(&line).expect("a JSON log line");
    let spans = entry["spans"].as_array().expect("the line's spans");
    assert!(
        spans
            .iter()
            .any(|span| span["request_id"] == "e2e-connect-request"),
        "{line}"
    );
    assert!(!line.contains(CALENDLY_TOKEN), "{line}");
    assert!(stop(server).success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_a_slow_request_lets_it_finish_and_refuses_new_ones() {
    let file = TestSqliteFile::create();
    let url = file.url();
    let calendly_stand_in = calendly_stand_in().await;
    Mock::given(method("GET"))
        .and(path("/event_types"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(calendly::event_types_page(
                    &[calendly::event_type(
                        "https://api.calendly.com/event_types/SLOW",
                        "Slow",
                    )],
                    None,
                ))
                .set_delay(Duration::from_millis(1500)),
        )
        .mount(&calendly_stand_in)
        .await;
    let stand_in_uri = calendly_stand_in.uri();
    let env = development_env(&url, &stand_in_uri);
    let token = access_token(&env, "7");
    let (mut server, address, _log) = serve(&env);
    connect(&address, &token).await;

    let slow = tokio::spawn({
        let (address, token) = (address.clone(), token.clone());
        async move {
            http_client()
                .get(format!("http://{address}/calendly/user-event-types"))
                .bearer_auth(token)
                .send()
                .await
        }
    });
    // The slow request is waiting for Calendly when SIGTERM arrives.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut child = server.0.take().expect("running");
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());

    // New requests are refused while the slow one is still in flight.
    let mut refused = false;
    for _ in 0..20 {
        let attempt = http_client()
            .get(format!("http://{address}/healthz"))
            .send()
            .await;
        if attempt.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(refused, "new requests were still served after SIGTERM");
    assert!(
        !slow.is_finished(),
        "the slow request ended before the check"
    );

    let finished = slow.await.expect("joins").expect("answered");
    assert_eq!(finished.status(), 200);
    let event_types: serde_json::Value = finished.json().await.expect("JSON");
    assert_eq!(event_types.as_array().map(Vec::len), Some(1));

    let status =
        tokio::task::spawn_blocking(move || wait_with_timeout(&mut child, Duration::from_secs(30)))
            .await
            .expect("joins");
    assert!(status.success(), "{status:?}");
}

#[tokio::test]
async fn the_embedded_database_keeps_connections_across_restarts() {
    let file = TestSqliteFile::create();
    let url = file.url();
    let calendly_stand_in = calendly_stand_in().await;
    // The development configuration, as `cargo run` uses it, on a file of this test's own.
    let stand_in_uri = calendly_stand_in.uri();
    let env = development_env(&url, &stand_in_uri);
    let token = access_token(&env, "7");

    let (server, address, _log) = serve(&env);
    connect(&address, &token).await;
    assert!(stop(server).success());
    assert!(std::path::Path::new(file.path()).exists());

    let (server, address, _log) = serve(&env);
    assert_eq!(user_uri(&address, &token).await, calendly::user_uri());
    assert!(stop(server).success());
}

fn wait_with_timeout(child: &mut Child, timeout: Duration) -> std::process::ExitStatus {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().expect("waits") {
            return status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("the server did not stop within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The development configuration (as `cargo run` has it) on the SQLite database at
/// `database_url`, with Calendly at `calendly`, on a free port.
pub(crate) fn development_env<'a>(
    database_url: &'a str,
    calendly: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("APP__SERVER__PORT", "0"),
        ("APP__DATABASE__URL", database_url),
        ("APP__CALENDLY__API_BASE_URL", calendly),
    ]
}

pub(crate) fn env_with<'a>(
    base: &[(&'a str, &'a str)],
    extra: &[(&'a str, &'a str)],
) -> Vec<(&'a str, &'a str)> {
    base.iter().chain(extra).copied().collect()
}

/// `rotate-keys` with these settings: its exit status.
fn rotate_keys(env: &[(&str, &str)]) -> std::process::ExitStatus {
    gateway(&["rotate-keys"], env)
        .stdout(Stdio::null())
        .status()
        .expect("runs")
}

#[tokio::test]
async fn rotate_keys_reencrypts_stored_tokens_so_the_old_key_can_go() {
    const OLD: &str = "T0xELWtleS1PTEQta2V5LU9MRC1rZXktT0xELWtleSE=";
    const NEW: &str = "TkVXLWtleS1ORVcta2V5LU5FVy1rZXktTkVXLWtleSE=";
    let file = TestSqliteFile::create();
    let url = file.url();
    let calendly_stand_in = calendly_stand_in().await;
    let stand_in_uri = calendly_stand_in.uri();
    let base = development_env(&url, &stand_in_uri);
    let new_key = format!("2026-11:{NEW}");
    let old_only = env_with(&base, &[("APP__CALENDLY__TOKEN_ENCRYPTION_KEY", OLD)]);
    let new_first = env_with(
        &base,
        &[
            ("APP__CALENDLY__TOKEN_ENCRYPTION_KEY", OLD),
            ("APP__CALENDLY__TOKEN_ENCRYPTION_KEYS", &new_key),
        ],
    );
    // An empty single key is no key: only the new one is configured.
    let new_only = env_with(
        &base,
        &[
            ("APP__CALENDLY__TOKEN_ENCRYPTION_KEY", ""),
            ("APP__CALENDLY__TOKEN_ENCRYPTION_KEYS", &new_key),
        ],
    );
    let token = access_token(&old_only, "7");

    let (server, address, _log) = serve(&old_only);
    connect(&address, &token).await;
    assert!(stop(server).success());

    // Without the key that sealed it, the stored token is refused clearly: reconnect.
    let (server, address, log) = serve(&new_only);
    let response = http_client()
        .get(format!("http://{address}/calendly/user"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 424);
    let body: serde_json::Value = response.json().await.expect("JSON");
    assert_eq!(body["code"], "calendly_reauth_required");
    assert!(
        body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("connect your Calendly account again")),
        "{body}"
    );
    log_line_with(&log, &["cannot be decrypted", "key_id"]);
    assert!(stop(server).success());

    assert!(rotate_keys(&new_first).success());

    let (server, address, _log) = serve(&new_only);
    assert_eq!(user_uri(&address, &token).await, calendly::user_uri());
    assert!(stop(server).success());
}

/// The Authorization headers of every call Calendly received.
async fn bearers_seen(calendly: &MockServer) -> Vec<String> {
    calendly
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter_map(|r| r.headers.get("authorization"))
        .filter_map(|v| v.to_str().ok().map(str::to_owned))
        .collect()
}

const REPLACEMENT_TOKEN: &str = "the-replacement-token";

#[tokio::test]
async fn two_instances_on_one_database_see_each_others_connects_and_disconnects() {
    let db = TestDatabase::create().await;
    let calendly_stand_in = calendly_stand_in().await;
    Mock::given(method("GET"))
        .and(path("/event_types"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(calendly::event_types_page(
                &[calendly::event_type(
                    "https://api.calendly.com/event_types/SHARED",
                    "Shared",
                )],
                None,
            )),
        )
        .mount(&calendly_stand_in)
        .await;
    Mock::given(method("GET"))
        .and(path("/event_type_available_times"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(calendly::available_times(&[
                calendly::available_time("2031-03-03T10:00:00.000000Z"),
            ])),
        )
        .mount(&calendly_stand_in)
        .await;
    let env = [
        ("APP__SERVER__PORT", "0"),
        ("APP__DATABASE__URL", db.url()),
        ("APP__CALENDLY__API_BASE_URL", &calendly_stand_in.uri()),
        ("APP__AUTH__JWT_SECRET", JWT_SECRET),
        ("APP__CALENDLY__TOKEN_ENCRYPTION_KEY", ENCRYPTION_KEY),
        // Every check reaches Calendly, so that the token each sends is seen.
        ("APP__CACHE__AVAILABILITY_TTL_SECS", "0"),
    ];
    let token = access_token(&env, "7");
    secrets_in_logs::register_secret(REPLACEMENT_TOKEN);
    let (first, a, _log_a) = serve(&env);
    let (second, b, _log_b) = serve(&env);
    let client = http_client();
    let get = |address: &str, path: &str| {
        client
            .get(format!("http://{address}{path}"))
            .bearer_auth(&token)
            .send()
    };
    let check = "/calendly/check-availability?start_time=2031-03-03T00:00:00Z&end_time=2031-03-04T00:00:00Z";

    // Connected through A, used through B.
    connect(&a, &token).await;
    assert_eq!(user_uri(&b, &token).await, calendly::user_uri());
    assert_eq!(
        get(&b, "/calendly/user-event-types")
            .await
            .expect("sent")
            .status(),
        200
    );
    assert_eq!(get(&b, check).await.expect("sent").status(), 200);

    // Disconnected through B: A refuses at once, and the token is never sent again.
    let disconnected = client
        .delete(format!("http://{b}/calendly/connection"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("sent");
    assert_eq!(disconnected.status(), 204);
    let calls_before = bearers_seen(&calendly_stand_in).await.len();
    for path in [
        "/calendly/user",
        "/calendly/user-event-types",
        check,
        "/calendly/connection",
    ] {
        assert_eq!(get(&a, path).await.expect("sent").status(), 404, "{path}");
    }
    assert_eq!(bearers_seen(&calendly_stand_in).await.len(), calls_before);

    // Reconnected through A with another token: B uses the new one, never the old.
    let replaced = client
        .put(format!("http://{a}/calendly/connection"))
        .bearer_auth(&token)
        .json(&json!({ "personal_access_token": REPLACEMENT_TOKEN }))
        .send()
        .await
        .expect("sent");
    assert_eq!(replaced.status(), 200);
    let calls_before = bearers_seen(&calendly_stand_in).await.len();
    assert_eq!(get(&b, check).await.expect("sent").status(), 200);
    let new_calls = bearers_seen(&calendly_stand_in)
        .await
        .split_off(calls_before);
    assert!(!new_calls.is_empty());
    assert!(
        new_calls
            .iter()
            .all(|h| *h == format!("Bearer {REPLACEMENT_TOKEN}")),
        "{new_calls:?}"
    );

    assert!(stop(first).success());
    assert!(stop(second).success());
}
