//! `GET /calendly/user`: the user's Calendly URI as a JSON string, as the original gave it.

use crate::helpers::{TestApp, assert_not_connected, json_of};

#[tokio::test]
async fn the_user_uri_is_a_json_string_from_the_stored_connection() {
    let app = TestApp::spawn().await;
    app.connect().await;
    let calls_before = app
        .calendly
        .received_requests()
        .await
        .unwrap_or_default()
        .len();

    let response = app.get("/calendly/user").await;

    assert_eq!(
        response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/json")
    );
    let (status, body) = json_of(response).await;
    assert_eq!(status, 200);
    assert_eq!(body, "https://api.calendly.com/users/AAAAAAAAAAAAAAAA");
    let calls_after = app
        .calendly
        .received_requests()
        .await
        .unwrap_or_default()
        .len();
    assert_eq!(calls_before, calls_after, "no Calendly call");
}

#[tokio::test]
async fn without_a_connection_it_is_404_with_the_original_detail() {
    let app = TestApp::spawn().await;
    assert_not_connected(app.get("/calendly/user").await).await;
}
