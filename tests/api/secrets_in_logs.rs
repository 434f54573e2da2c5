//! Every log line the API suite produces, in process (the gateway's own, at debug level, in the
//! production JSON format) and from the binaries it runs, is checked for the secrets the tests
//! use: the JWT secret, the encryption keys, every Calendly token and access token the tests
//! send. A line holding one is recorded with the test it came from, and that test's
//! application or server fails with it when it ends.
//!
//! Which test: the tests' own HTTP client sends the test's name as every request's
//! `X-Request-Id` (`helpers::http_client`), which the gateway puts on each log line of the
//! request; a line outside any request belongs to the test whose thread wrote it (each test runs
//! on a thread named after it, and the readers of a binary's log are named after their test).

use std::io::Write;
use std::sync::{Mutex, Once, PoisonError};

use tracing_subscriber::EnvFilter;

use crate::helpers::{CALENDLY_TOKEN, ENCRYPTION_KEY, JWT_SECRET};

/// Shorter values are too likely to occur in a log line by chance.
const MIN_SECRET_LEN: usize = 7;

static SECRETS: Mutex<Vec<String>> = Mutex::new(Vec::new());
/// Lines holding a secret, with the test each came from.
static VIOLATIONS: Mutex<Vec<Violation>> = Mutex::new(Vec::new());
/// Lines seen, for the test that the capture works.
static SEEN: Mutex<Vec<String>> = Mutex::new(Vec::new());
static INSTALL: Once = Once::new();

fn locked<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[derive(Debug)]
struct Violation {
    test: String,
    secrets: Vec<String>,
    line: String,
}

/// The test running on this thread, as a value fit for an `X-Request-Id` (visible ASCII, at
/// most 128 bytes).
pub fn current_test() -> String {
    let name = std::thread::current()
        .name()
        .unwrap_or("a thread of no test")
        .to_owned();
    name.chars()
        .map(|c| if c.is_ascii_graphic() { c } else { '_' })
        .take(128)
        .collect()
}

/// The test a log line belongs to: the request id on it, or else the test of this thread.
fn test_of(line: &str) -> String {
    const KEY: &str = r#""request_id":""#;
    line.find(KEY)
        .map(|at| &line[at + KEY.len()..])
        .and_then(|rest| rest.split('"').next())
        .map_or_else(current_test, str::to_owned)
}

/// A value no log line may hold.
pub fn register_secret(secret: &str) {
    if secret.len() >= MIN_SECRET_LEN {
        let mut secrets = locked(&SECRETS);
        if !secrets.iter().any(|known| known == secret) {
            secrets.push(secret.to_owned());
        }
    }
}

/// The registered secrets that `line` holds.
pub fn secrets_in(line: &str) -> Vec<String> {
    locked(&SECRETS)
        .iter()
        .filter(|secret| line.contains(secret.as_str()))
        .cloned()
        .collect()
}

/// Checks one log line, remembering it and any secret it holds.
pub fn check_line(line: &str) {
    let secrets = secrets_in(line);
    if !secrets.is_empty() {
        locked(&VIOLATIONS).push(Violation {
            test: test_of(line),
            secrets,
            line: line.to_owned(),
        });
    }
    locked(&SEEN).push(line.to_owned());
}

/// Whether `name` is a test's (libtest names each test's thread by its path, `module::test`),
/// rather than a thread of no test (a runtime's or a server's worker).
fn is_a_test(name: &str) -> bool {
    name.contains("::")
}

/// Fails if a line of this test, or a line no test can be blamed for, held a secret, naming
/// the test and the secret. Lines of other tests are left for them.
pub fn assert_no_secret_logged() {
    let me = current_test();
    let mine: Vec<String> = {
        let mut violations = locked(&VIOLATIONS);
        let (mine, others) = std::mem::take(&mut *violations)
            .into_iter()
            .partition(|violation| violation.test == me || !is_a_test(&violation.test));
        *violations = others;
        mine.into_iter()
            .map(|v: Violation| format!("test {}: {:?} in: {}", v.test, v.secrets, v.line))
            .collect()
    };
    assert!(mine.is_empty(), "secrets were logged:\n{}", mine.join("\n"));
}

/// The lines seen so far that contain `needle`.
pub fn lines_with(needle: &str) -> Vec<String> {
    locked(&SEEN)
        .iter()
        .filter(|line| line.contains(needle))
        .cloned()
        .collect()
}

/// Where the in-process log lines go: to [`check_line`], not to the console.
struct Scanner(Vec<u8>);

impl Write for Scanner {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for Scanner {
    fn drop(&mut self) {
        for line in String::from_utf8_lossy(&self.0).lines() {
            check_line(line);
        }
    }
}

/// Installs the scanning subscriber for the whole test process, once.
pub fn install() {
    INSTALL.call_once(|| {
        for secret in [JWT_SECRET, ENCRYPTION_KEY, CALENDLY_TOKEN] {
            register_secret(secret);
        }
        let subscriber = tracing_subscriber::fmt()
            .json()
            .with_current_span(true)
            .with_span_list(true)
            .with_env_filter(EnvFilter::new(
                "debug,hyper=info,hyper_util=info,h2=info,tokio_postgres=info,wiremock=info",
            ))
            .with_writer(|| Scanner(Vec::new()))
            .finish();
        tracing::subscriber::set_global_default(subscriber)
            .expect("no other global subscriber in the API tests");
    });
}

#[tokio::test]
async fn the_gateways_log_lines_are_captured_and_checked() {
    use crate::helpers::{TestApp, USER};

    let app = TestApp::spawn().await;
    app.calendly_knows_the_user().await;
    let response = app
        .client
        .put(app.url("/calendly/connection"))
        .bearer_auth(app.token(USER))
        .header("x-request-id", "captured-request-7f3a")
        .json(&serde_json::json!({ "personal_access_token": CALENDLY_TOKEN }))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 200);
    assert!(!lines_with("captured-request-7f3a").is_empty());
}

#[test]
fn a_leak_is_blamed_on_the_test_whose_request_logged_it() {
    register_secret("a-leaked-secret-of-another-test");
    check_line(
        r#"{"fields":{"message":"a-leaked-secret-of-another-test"},"spans":[{"request_id":"some::other_test","name":"HTTP request"}]}"#,
    );
    // Not this test's: it passes.
    assert_no_secret_logged();
    let blamed: Vec<String> = locked(&VIOLATIONS)
        .iter()
        .filter(|v| v.secrets == ["a-leaked-secret-of-another-test"])
        .map(|v| v.test.clone())
        .collect();
    assert_eq!(blamed, ["some::other_test"]);

    check_line("a line of this very test: a-leaked-secret-of-another-test");
    let failure = std::panic::catch_unwind(assert_no_secret_logged)
        .expect_err("this test's own leak fails it");
    let message = failure
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default();
    assert!(
        message.contains(&format!("test {}:", current_test())),
        "{message}"
    );
    locked(&VIOLATIONS).retain(|v| v.secrets != ["a-leaked-secret-of-another-test"]);
}

#[test]
fn a_line_holding_a_registered_secret_is_caught() {
    register_secret("a-planted-secret-value");
    assert_eq!(
        secrets_in(r#"{"fields":{"message":"oops a-planted-secret-value"}}"#),
        ["a-planted-secret-value"]
    );
    assert!(secrets_in("an innocent line").is_empty());
    register_secret("short");
    assert!(secrets_in("short").is_empty(), "too short to be checked");
}
