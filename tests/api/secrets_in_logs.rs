//! Every log line the API suite produces, in process (the gateway's own, at debug level, in the
//! production JSON format) and from the binaries it runs, is checked for the secrets the tests
//! use: the JWT secret, the encryption keys, every Calendly token and access token the tests
//! send. A line holding one is recorded, and the next test application or server to end fails
//! with it.

use std::io::Write;
use std::sync::{Mutex, Once, PoisonError};

use tracing_subscriber::EnvFilter;

use crate::helpers::{CALENDLY_TOKEN, ENCRYPTION_KEY, JWT_SECRET};

/// Shorter values are too likely to occur in a log line by chance.
const MIN_SECRET_LEN: usize = 7;

static SECRETS: Mutex<Vec<String>> = Mutex::new(Vec::new());
static VIOLATIONS: Mutex<Vec<String>> = Mutex::new(Vec::new());
/// Lines seen, for the test that the capture works.
static SEEN: Mutex<Vec<String>> = Mutex::new(Vec::new());
static INSTALL: Once = Once::new();

fn locked<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
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
    let found = secrets_in(line);
    if !found.is_empty() {
        locked(&VIOLATIONS).push(format!("{found:?} in: {line}"));
    }
    locked(&SEEN).push(line.to_owned());
}

/// Fails if any line so far held a secret.
pub fn assert_no_secret_logged() {
    let violations = std::mem::take(&mut *locked(&VIOLATIONS));
    assert!(
        violations.is_empty(),
        "secrets were logged:\n{}",
        violations.join("\n")
    );
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
