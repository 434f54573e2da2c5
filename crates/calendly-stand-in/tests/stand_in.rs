//! The stand-in binary, as the benchmark and the end-to-end runs use it: as strict as Calendly.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use chrono::{SecondsFormat, TimeDelta, Utc};
use serde_json::{Value, json};

/// The stand-in on a free port, and its address; killed when dropped.
struct StandIn {
    child: Child,
    address: String,
}

impl StandIn {
    fn start() -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_calendly-stand-in"))
            .args(["--port", "0", "--workers", "1"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("the stand-in starts");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).expect("a line");
        let address = line
            .trim()
            .rsplit(' ')
            .next()
            .expect("an address")
            .to_owned();
        Self { child, address }
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn available_times(stand_in: &StandIn, start: chrono::DateTime<Utc>) -> (u16, Value) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::new();
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
