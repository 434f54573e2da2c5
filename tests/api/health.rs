//! `/healthz`, `/readyz`, and a database that goes away.

use serde_json::json;

use crate::helpers::{TestApp, assert_error, json_of};

#[tokio::test]
async fn healthz_answers_without_authentication() {
    let app = TestApp::spawn().await;
    let response = app
        .client
        .get(app.url("/healthz"))
        .send()
        .await
        .expect("sent");
    assert_eq!(json_of(response).await, (200, json!({ "status": "ok" })));
}

#[tokio::test]
async fn readyz_is_200_while_the_database_answers_and_503_when_it_is_gone() {
    let app = TestApp::spawn().await;
    let ready = app
        .client
        .get(app.url("/readyz"))
        .send()
        .await
        .expect("sent");
    assert_eq!(json_of(ready).await, (200, json!({ "status": "ready" })));

    app.db.drop_now().await;

    let not_ready = app
        .client
        .get(app.url("/readyz"))
        .send()
        .await
        .expect("sent");
    assert_error(not_ready, 503, "database_unavailable").await;
    assert_error(app.get("/calendly/user").await, 503, "database_unavailable").await;
    let healthy = app
        .client
        .get(app.url("/healthz"))
        .send()
        .await
        .expect("sent");
    assert_eq!(healthy.status(), 200);
}
