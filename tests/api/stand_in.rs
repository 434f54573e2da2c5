//! The Calendly stand-in's own binary (`crates/calendly-stand-in`), run for the end-to-end tests.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use serde_json::Value;

use crate::binary::log_line_with;
use crate::helpers::http_client;

/// The stand-in's binary, built beside the gateway's (`cargo test --workspace` builds it; a
/// narrower run builds it here).
pub fn stand_in_binary() -> PathBuf {
    let gateway = PathBuf::from(env!("CARGO_BIN_EXE_calendly-gateway"));
    let binary = gateway.with_file_name("calendly-stand-in");
    if !binary.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let built = Command::new(cargo)
            .args(["build", "-p", "calendly-stand-in", "--locked"])
            .status()
            .expect("cargo runs");
        assert!(built.success(), "the stand-in does not build");
    }
    binary
}

/// A running stand-in, killed with its test.
pub struct StandIn {
    child: Child,
    pub url: String,
}

impl Drop for StandIn {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl StandIn {
    /// The stand-in with OAuth access tokens living `access_token_ttl_secs`.
    pub fn with_token_ttl(access_token_ttl_secs: u64) -> Self {
        Self::start(&[
            "--access-token-ttl-secs",
            &access_token_ttl_secs.to_string(),
        ])
    }

    /// The stand-in on a free port, with `args`.
    pub fn start(args: &[&str]) -> Self {
        let mut child = Command::new(stand_in_binary())
            .args(["--port", "0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the stand-in starts");
        let log = crate::binary::log_lines(&mut child);
        let line = log_line_with(&log, &["listening on http://"]);
        let url = line
            .split("listening on ")
            .nth(1)
            .expect("an address")
            .trim()
            .to_owned();
        Self { child, url }
    }

    pub async fn stats(&self) -> HashMap<String, u64> {
        let stats: Value = http_client()
            .get(format!("{}/stats", self.url))
            .send()
            .await
            .expect("sent")
            .json()
            .await
            .expect("JSON");
        stats
            .as_object()
            .expect("an object")
            .iter()
            .map(|(name, count)| (name.clone(), count.as_u64().unwrap_or_default()))
            .collect()
    }

    pub async fn reset_stats(&self) {
        http_client()
            .delete(format!("{}/stats", self.url))
            .send()
            .await
            .expect("sent");
    }
}
