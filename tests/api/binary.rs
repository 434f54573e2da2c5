//! The `calendly-gateway` binary itself: its commands, as an operator runs them.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use adapters::jwt::JwtUserAuth;
use domain::UserAuth;
use secrecy::SecretString;
use serde_json::json;
use test_support::{TestDatabase, calendly};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{CALENDLY_TOKEN, ENCRYPTION_KEY, JWT_SECRET, workspace_dir};

/// The binary, run from the workspace (where `config/` is) with only the given environment.
fn gateway(args: &[&str], env: &[(&str, &str)]) -> Command {
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

/// Waits for the line that says where the server listens.
fn bound_address(child: &mut Child) -> String {
    let stdout = child.stdout.take().expect("stdout piped");
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(rest) = line.split("listening on http://").nth(1) {
                let address = rest
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_owned();
                let _ = sender.send(address);
            }
        }
    });
    receiver
        .recv_timeout(Duration::from_secs(30))
        .expect("the server logs its address")
}

#[tokio::test]
async fn serve_works_end_to_end_and_stops_gracefully_on_sigterm() {
    let db = TestDatabase::create().await;
    let calendly_stand_in = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/users/me"))
        .respond_with(ResponseTemplate::new(200).set_body_json(calendly::users_me()))
        .mount(&calendly_stand_in)
        .await;
    let env = [
        ("APP__SERVER__PORT", "0"),
        ("APP__DATABASE__URL", db.url()),
        ("APP__CALENDLY__API_BASE_URL", &calendly_stand_in.uri()),
        ("APP__AUTH__JWT_SECRET", JWT_SECRET),
        ("APP__CALENDLY__TOKEN_ENCRYPTION_KEY", ENCRYPTION_KEY),
    ];
    let token = gateway(&["token", "--user-id", "7"], &env)
        .output()
        .expect("runs");
    let token = String::from_utf8(token.stdout)
        .expect("utf-8")
        .trim()
        .to_owned();
    let mut server = gateway(&["serve"], &env)
        .stdout(Stdio::piped())
        .spawn()
        .expect("starts");
    let address = bound_address(&mut server);
    let client = reqwest::Client::new();

    let connected = client
        .put(format!("http://{address}/calendly/connection"))
        .bearer_auth(&token)
        .json(&json!({ "personal_access_token": CALENDLY_TOKEN }))
        .send()
        .await
        .expect("sent");
    assert_eq!(connected.status(), 200);
    let user = client
        .get(format!("http://{address}/calendly/user"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("sent");
    assert_eq!(
        user.json::<String>().await.expect("JSON string"),
        calendly::user_uri()
    );

    let pid = server.id().to_string();
    let killed = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let status = wait_with_timeout(&mut server, Duration::from_secs(30));
    assert!(status.success(), "{status:?}");
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
