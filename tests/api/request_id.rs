//! Every response carries the request's id: the client's own when it sent a sane one.

use crate::helpers::{TestApp, plain_http_client};

fn id_of(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .expect("an X-Request-Id")
        .to_owned()
}

#[tokio::test]
async fn an_id_is_made_for_every_response_success_or_error() {
    let mut app = TestApp::spawn().await;
    app.client = plain_http_client();
    let healthz = app
        .client
        .get(app.url("/healthz"))
        .send()
        .await
        .expect("sent");
    let unauthenticated = app
        .client
        .get(app.url("/calendly/user"))
        .send()
        .await
        .expect("sent");
    let unknown = app
        .client
        .get(app.url("/no/such/path"))
        .send()
        .await
        .expect("sent");

    let ids: Vec<String> = [&healthz, &unauthenticated, &unknown]
        .into_iter()
        .map(id_of)
        .collect();
    assert_eq!(
        (
            healthz.status().as_u16(),
            unauthenticated.status().as_u16(),
            unknown.status().as_u16()
        ),
        (200, 401, 404)
    );
    for id in &ids {
        assert_eq!(id.len(), 36, "a UUID: {id}");
    }
    assert!(ids[0] != ids[1] && ids[1] != ids[2], "{ids:?}");
}

#[tokio::test]
async fn a_clients_id_is_kept() {
    let app = TestApp::spawn().await;
    let response = app
        .client
        .get(app.url("/calendly/user"))
        .bearer_auth(app.token("42"))
        .header("x-request-id", "web-client-7f3a.2")
        .send()
        .await
        .expect("sent");
    assert_eq!(id_of(&response), "web-client-7f3a.2");
}

#[tokio::test]
async fn an_id_that_could_break_a_log_line_is_replaced() {
    let app = TestApp::spawn().await;
    for sent in ["two words".to_owned(), "x".repeat(200)] {
        let response = app
            .client
            .get(app.url("/healthz"))
            .header("x-request-id", sent.as_str())
            .send()
            .await
            .expect("sent");
        let id = id_of(&response);
        assert_ne!(id, sent);
        assert_eq!(id.len(), 36);
    }
}
