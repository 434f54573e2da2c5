//! What the framework refuses is JSON too.

use crate::helpers::{TestApp, assert_error, assert_not_connected};

#[tokio::test]
async fn an_unknown_path_is_404_json() {
    let app = TestApp::spawn().await;
    assert_error(app.get("/no/such/thing").await, 404, "not_found").await;
}

#[tokio::test]
async fn a_wrong_method_is_405_json_with_allow() {
    let app = TestApp::spawn().await;
    let response = app
        .client
        .post(app.url("/calendly/user"))
        .bearer_auth(app.token("42"))
        .send()
        .await
        .expect("sent");
    assert_eq!(
        response
            .headers()
            .get("allow")
            .and_then(|v| v.to_str().ok()),
        Some("GET")
    );
    assert_error(response, 405, "method_not_allowed").await;
}

#[tokio::test]
async fn a_trailing_slash_reaches_the_same_endpoint() {
    let app = TestApp::spawn().await;
    assert_not_connected(app.get("/calendly/user/").await).await;
}

#[tokio::test]
async fn an_over_long_query_is_refused_without_a_server_error() {
    let app = TestApp::spawn().await;
    let path = format!(
        "/calendly/check-availability?start_time={}",
        "9".repeat(20_000)
    );
    let response = app.get(&path).await;
    let status = response.status().as_u16();
    assert!((400..500).contains(&status), "{status}");
}
