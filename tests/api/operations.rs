//! What operators and client developers use: `/openapi.json`, `/docs`, `/metrics`, CORS and the
//! request limits.

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::{TestApp, USER, assert_error, json_of};

/// Every endpoint of CONTRACT.md, as (method, path).
const CONTRACT_ENDPOINTS: [(&str, &str); 23] = [
    ("put", "/calendly/connection"),
    ("get", "/calendly/connection"),
    ("delete", "/calendly/connection"),
    ("post", "/calendly/oauth/start"),
    ("post", "/calendly/oauth/complete"),
    ("get", "/calendly/oauth/callback"),
    ("get", "/calendly/user"),
    ("get", "/calendly/user-event-types"),
    ("get", "/calendly/check-availability"),
    ("get", "/calendly/slots"),
    ("get", "/calendly/busy-times"),
    ("get", "/calendly/availability-schedules"),
    ("post", "/calendly/bookings"),
    ("get", "/calendly/bookings"),
    ("get", "/calendly/bookings/{uuid}"),
    ("post", "/calendly/bookings/{uuid}/cancellation"),
    ("post", "/calendly/webhooks/{hook_id}"),
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("get", "/metrics"),
    ("get", "/openapi.json"),
    ("get", "/docs"),
    ("post", "/demo/session"),
];

async fn openapi(app: &TestApp) -> Value {
    let (status, document) = json_of(
        app.client
            .get(app.url("/openapi.json"))
            .send()
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!(status, 200);
    document
}

#[tokio::test]
async fn the_openapi_document_describes_every_endpoint_of_the_contract() {
    let app = TestApp::spawn().await;
    let document = openapi(&app).await;
    assert!(
        document["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3."))
    );

    let mut documented = Vec::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("operations").keys() {
            documented.push((method.clone(), path.clone()));
        }
    }
    let mut expected: Vec<(String, String)> = CONTRACT_ENDPOINTS
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    documented.sort();
    expected.sort();
    assert_eq!(documented, expected);

    let bearer = &document["components"]["securitySchemes"]["bearer"];
    assert_eq!(bearer["type"], "http");
    assert_eq!(bearer["scheme"], "bearer");
}

#[tokio::test]
async fn every_error_status_of_the_calendly_endpoints_is_documented_with_the_error_body() {
    let app = TestApp::spawn().await;
    let document = openapi(&app).await;
    let error_schema = &document["components"]["schemas"]["Error"];
    assert_eq!(error_schema["required"], json!(["detail", "code"]));

    for (method, path) in CONTRACT_ENDPOINTS
        .iter()
        .filter(|(_, p)| p.starts_with("/calendly"))
    {
        let operation = &document["paths"][path][method];
        let responses = operation["responses"].as_object().expect("responses");
        // The callback reads nothing: it only passes Calendly's answer on.
        assert!(
            responses.contains_key("503") || *path == "/calendly/oauth/callback",
            "{method} {path} lacks 503"
        );
        for (status, response) in responses
            .iter()
            .filter(|(s, _)| !s.starts_with('2') && !s.starts_with('3'))
        {
            assert_eq!(
                response["content"]["application/json"]["schema"]["$ref"],
                "#/components/schemas/Error",
                "{method} {path} {status}"
            );
        }
        // The browser comes back from Calendly to the callback without the bearer token.
        if *path == "/calendly/oauth/callback" {
            assert_eq!(operation["security"], Value::Null);
            assert!(responses.contains_key("302") && !responses.contains_key("401"));
            continue;
        }
        // Calendly's deliveries carry a signature instead: 401 is a bad one, without
        // WWW-Authenticate.
        if *path == "/calendly/webhooks/{hook_id}" {
            assert_eq!(operation["security"], Value::Null);
            assert!(responses.contains_key("413") && responses.contains_key("410"));
            assert_eq!(responses["401"]["headers"], Value::Null);
            continue;
        }
        assert_eq!(
            operation["security"],
            json!([{ "bearer": [] }]),
            "{method} {path}"
        );
        assert_eq!(
            responses["401"]["headers"]["WWW-Authenticate"]["schema"]["type"],
            "string"
        );
    }

    let check = &document["paths"]["/calendly/check-availability"]["get"];
    let statuses: Vec<&String> = check["responses"]
        .as_object()
        .expect("responses")
        .keys()
        .collect();
    for status in [
        "200", "400", "401", "404", "422", "424", "429", "502", "503", "504",
    ] {
        assert!(
            statuses.iter().any(|s| *s == status),
            "check-availability lacks {status}"
        );
    }
    assert_eq!(
        check["responses"]["429"]["headers"]["Retry-After"]["schema"]["type"],
        "integer"
    );
    let parameters: Vec<(&str, bool)> = check["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .map(|p| (p["name"].as_str().expect("name"), p["required"] == true))
        .collect();
    assert_eq!(
        parameters,
        [
            ("start_time", true),
            ("end_time", true),
            ("event_type", false)
        ]
    );
    assert_eq!(
        document["paths"]["/calendly/connection"]["put"]["requestBody"]["content"]["application/json"]
            ["schema"]["$ref"],
        "#/components/schemas/ConnectRequest"
    );
}

#[tokio::test]
async fn the_docs_page_and_all_its_assets_are_served_by_the_gateway() {
    let app = TestApp::spawn().await;
    let page = app.client.get(app.url("/docs")).send().await.expect("sent");
    assert_eq!(page.status(), 200);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .is_ok_and(|v| v.starts_with("text/html"))
    );
    let html = page.text().await.expect("body");
    assert!(html.contains(r#"<base href="/docs/">"#), "{html}");

    // Every script and stylesheet the page refers to, resolved against its base.
    let assets: Vec<String> = html
        .split(['"', '\''])
        .filter(|part| part.ends_with(".js") || part.ends_with(".css"))
        .map(|part| format!("/docs/{}", part.trim_start_matches("./")))
        .collect();
    assert!(assets.len() >= 4, "{assets:?}");
    for asset in &assets {
        let response = app.client.get(app.url(asset)).send().await.expect("sent");
        assert_eq!(response.status(), 200, "{asset}");
        assert!(!response.bytes().await.expect("body").is_empty(), "{asset}");
    }
    let initializer = app
        .client
        .get(app.url("/docs/swagger-initializer.js"))
        .send()
        .await
        .expect("sent")
        .text()
        .await
        .expect("body");
    assert!(
        initializer.contains(r#""url": "/openapi.json""#),
        "{initializer}"
    );

    assert_error(
        app.client
            .get(app.url("/docs/no-such-file.js"))
            .send()
            .await
            .expect("sent"),
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn metrics_show_requests_calendly_calls_and_the_database_pool() {
    let app = TestApp::spawn().await;
    app.connect().await;
    Mock::given(method("GET"))
        .and(path("/event_types"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&app.calendly)
        .await;
    assert_eq!(app.get("/calendly/user").await.status(), 200);
    assert_eq!(app.get("/calendly/user-event-types").await.status(), 502);
    assert_eq!(app.get("/no/such/path").await.status(), 404);

    let response = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .is_ok_and(|v| v.starts_with("application/openmetrics-text"))
    );
    let text = response.text().await.expect("body");
    for line in [
        r#"http_requests_total{method="PUT",route="/calendly/connection",status="200"} 1"#,
        r#"http_requests_total{method="GET",route="/calendly/user",status="200"} 1"#,
        r#"http_requests_total{method="GET",route="/calendly/user-event-types",status="502"} 1"#,
        r#"http_requests_total{method="GET",route="unmatched",status="404"} 1"#,
        r#"http_request_duration_seconds_count{method="GET",route="/calendly/user",status="200"} 1"#,
        r#"calendly_calls_total{endpoint="/users/me",status="200"} 1"#,
        r#"calendly_calls_total{endpoint="/event_types",status="500"} 1"#,
        r#"calendly_call_duration_seconds_count{endpoint="/users/me",status="200"} 1"#,
        r#"db_pool_connections{state="in_use"} 0"#,
        "db_pool_max_connections 4",
        "db_pool_waiting_requests 0",
    ] {
        assert!(text.contains(line), "{line} is not in:\n{text}");
    }
    assert!(
        text.contains(r#"db_pool_connections{state="idle"} "#),
        "{text}"
    );
    assert!(text.trim_end().ends_with("# EOF"), "{text}");
}

const ORIGIN: &str = "https://app.example.com";

async fn preflight(app: &TestApp, origin: &str) -> reqwest::Response {
    app.client
        .request(reqwest::Method::OPTIONS, app.url("/calendly/connection"))
        .header("origin", origin)
        .header("access-control-request-method", "PUT")
        .header(
            "access-control-request-headers",
            "authorization, content-type",
        )
        .send()
        .await
        .expect("sent")
}

fn allowed_origin(response: &reqwest::Response) -> Option<&str> {
    response
        .headers()
        .get("access-control-allow-origin")
        .and_then(|v| v.to_str().ok())
}

#[tokio::test]
async fn cors_allows_the_configured_origins_only() {
    let app = TestApp::spawn_with(|settings| {
        settings.http.cors_allowed_origins = vec![ORIGIN.to_owned()];
    })
    .await;

    let response = preflight(&app, ORIGIN).await;
    assert!(response.status().is_success(), "{}", response.status());
    assert_eq!(allowed_origin(&response), Some(ORIGIN));
    let methods = response.headers()["access-control-allow-methods"]
        .to_str()
        .expect("ascii");
    assert!(
        methods.contains("PUT") && methods.contains("DELETE"),
        "{methods}"
    );

    let response = app
        .client
        .get(app.url("/calendly/user"))
        .bearer_auth(app.token(USER))
        .header("origin", ORIGIN)
        .send()
        .await
        .expect("sent");
    assert_eq!(allowed_origin(&response), Some(ORIGIN));
    let exposed = response.headers()["access-control-expose-headers"]
        .to_str()
        .expect("ascii")
        .to_ascii_lowercase();
    assert!(exposed.contains("x-request-id"), "{exposed}");

    let response = preflight(&app, "https://evil.example.com").await;
    assert_eq!(allowed_origin(&response), None);
}

#[tokio::test]
async fn without_configured_origins_no_origin_is_allowed() {
    let app = TestApp::spawn().await;
    let response = app
        .client
        .get(app.url("/healthz"))
        .header("origin", ORIGIN)
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 200);
    assert_eq!(allowed_origin(&response), None);
}

#[tokio::test]
async fn an_over_long_query_string_is_refused_with_the_json_error() {
    let app = TestApp::spawn().await;
    let long = "x".repeat(9000);
    let response = app
        .get(&format!("/calendly/check-availability?start_time={long}"))
        .await;
    assert_error(response, 414, "uri_too_long").await;
}

#[tokio::test]
async fn over_large_headers_are_refused_with_the_json_error() {
    let app = TestApp::spawn().await;
    let mut request = app
        .client
        .get(app.url("/calendly/user"))
        .bearer_auth(app.token(USER));
    for i in 0..20 {
        request = request.header(format!("x-filler-{i}"), "y".repeat(1000));
    }
    assert_error(
        request.send().await.expect("sent"),
        431,
        "headers_too_large",
    )
    .await;
}

/// `database.pool_max_size` is the number of connections in all, however many workers share it.
#[tokio::test]
async fn the_pool_size_is_the_total_of_every_workers_pool() {
    for (workers, total) in [(3, 10), (4, 2), (2, 2)] {
        let app = TestApp::spawn_with(|settings| {
            settings.server.workers = workers;
            settings.database.pool_max_size = total;
        })
        .await;
        let text = app.get("/metrics").await.text().await.expect("body");
        assert!(
            text.lines()
                .any(|line| line == format!("db_pool_max_connections {total}")),
            "{workers} workers, {total} connections:\n{text}"
        );
    }
}

/// `docs/openapi.json` is the document the gateway serves. After changing the API, write it
/// anew with `UPDATE_OPENAPI=1 scripts/test.sh -- checked_in`.
#[tokio::test]
async fn the_checked_in_document_is_the_one_served() {
    let app = TestApp::spawn().await;
    let served = openapi(&app).await;
    let path = crate::helpers::workspace_dir().join("docs/openapi.json");
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        let text = serde_json::to_string_pretty(&served).expect("serialises") + "\n";
        std::fs::write(&path, text).expect("written");
    }
    let text = std::fs::read_to_string(&path).expect("docs/openapi.json is checked in");
    let checked_in: Value = serde_json::from_str(&text).expect("JSON");
    assert!(
        checked_in == served,
        "docs/openapi.json differs from the document the gateway serves: write it anew with \
         UPDATE_OPENAPI=1 scripts/test.sh -- checked_in"
    );
}

/// The document's error statuses are those each operation answers: made from the one table of
/// errors, they name each status's codes, and list no status the operation never answers
/// (connecting, Calendly's 403 is `calendly_token_invalid`, a 422: `connect` has no 403).
#[tokio::test]
async fn each_operations_error_statuses_are_those_it_answers_with_their_codes() {
    let app = TestApp::spawn().await;
    let document = openapi(&app).await;
    let statuses = |method: &str, path: &str| -> Vec<String> {
        document["paths"][path][method]["responses"]
            .as_object()
            .expect("responses")
            .keys()
            .filter(|status| !status.starts_with('2'))
            .cloned()
            .collect()
    };
    assert_eq!(
        statuses("put", "/calendly/connection"),
        [
            "400", "401", "404", "409", "413", "422", "424", "429", "502", "503", "504"
        ]
    );
    assert_eq!(
        statuses("get", "/calendly/user"),
        ["401", "404", "424", "503"]
    );
    assert_eq!(statuses("get", "/readyz"), ["503"]);
    let connect_422 =
        document["paths"]["/calendly/connection"]["put"]["responses"]["422"]["description"]
            .as_str()
            .expect("a description");
    for code in ["`missing_parameter`", "`calendly_token_invalid`"] {
        assert!(connect_422.contains(code), "{connect_422}");
    }
}
