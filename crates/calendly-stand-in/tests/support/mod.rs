//! What the stand-in's tests share: the binary on a free port, a client, and a GET.

#![allow(dead_code, reason = "each test file uses a part")]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

/// The stand-in on a free port, and its address; killed when dropped.
pub struct StandIn {
    child: Child,
    pub address: String,
}

impl StandIn {
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    pub fn start_with(args: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_calendly-stand-in"))
            .args(["--port", "0", "--workers", "1"])
            .args(args)
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

pub fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// GET `path` at the stand-in as the user of `token`: status and JSON body.
pub async fn get(
    stand_in: &StandIn,
    token: &str,
    path: &str,
    query: &[(&str, &str)],
) -> (u16, Value) {
    let response = client()
        .get(format!("{}{path}", stand_in.address))
        .bearer_auth(token)
        .query(query)
        .send()
        .await
        .expect("sent");
    let status = response.status().as_u16();
    (status, response.json().await.expect("json"))
}

pub async fn user_uri(stand_in: &StandIn, token: &str) -> String {
    let (_, me) = get(stand_in, token, "/users/me", &[]).await;
    me["resource"]["uri"].as_str().expect("uri").to_owned()
}
