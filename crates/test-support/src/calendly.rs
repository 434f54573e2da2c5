//! Calendly's example bodies from its OpenAPI description, pages built from them, and a
//! Calendly that misbehaves at the HTTP level.

use serde_json::{Value, json};

const USERS_ME: &str = include_str!("../../../tests/fixtures/calendly/users_me.json");
const EVENT_TYPES: &str = include_str!("../../../tests/fixtures/calendly/event_types.json");
const AVAILABLE_TIMES: &str =
    include_str!("../../../tests/fixtures/calendly/event_type_available_times.json");
const ERRORS: &str = include_str!("../../../tests/fixtures/calendly/errors.json");

fn parsed(text: &str) -> Value {
    serde_json::from_str(text).expect("fixtures are valid JSON")
}

/// `GET /users/me` as documented.
pub fn users_me() -> Value {
    parsed(USERS_ME)
}

/// The documented user's URI.
pub fn user_uri() -> String {
    users_me()["resource"]["uri"]
        .as_str()
        .expect("documented user has a uri")
        .to_owned()
}

/// `GET /event_types` as documented: one event type and a next page token.
pub fn event_types_example() -> Value {
    parsed(EVENT_TYPES)
}

/// The documented event type, given another `uri` and `name`.
pub fn event_type(uri: &str, name: &str) -> Value {
    let mut event_type = event_types_example()["collection"][0].clone();
    event_type["uri"] = json!(uri);
    event_type["name"] = json!(name);
    event_type
}

/// A page of `GET /event_types` holding `event_types`, pointing at `next_page_token`.
pub fn event_types_page(event_types: &[Value], next_page_token: Option<&str>) -> Value {
    let mut page = event_types_example();
    page["collection"] = json!(event_types);
    page["pagination"]["count"] = json!(event_types.len());
    page["pagination"]["next_page_token"] = json!(next_page_token);
    page["pagination"]["next_page"] =
        json!(next_page_token.map(|token| format!(
            "https://api.calendly.com/event_types?count=100&page_token={token}"
        )));
    page
}

/// `GET /event_type_available_times` as documented.
pub fn available_times_example() -> Value {
    parsed(AVAILABLE_TIMES)
}

/// The documented available time, moved to `start_time`.
pub fn available_time(start_time: &str) -> Value {
    let mut time = available_times_example()["collection"][0].clone();
    time["start_time"] = json!(start_time);
    time
}

/// A `GET /event_type_available_times` body holding `times`.
pub fn available_times(times: &[Value]) -> Value {
    json!({ "collection": times })
}

/// Calendly's documented error body for `status` (400, 401, 403, 404, 409, 429 or 500).
pub fn error(status: u16) -> Value {
    parsed(ERRORS)[status.to_string()].clone()
}

/// Makes `server` refuse, as Calendly does, an available-times question whose `start_time` is
/// already past when it arrives: 400 with Calendly's documented "must be in the future" body.
/// It takes precedence over every other mock of the test.
pub async fn refuse_past_starts(server: &wiremock::MockServer) {
    wiremock::Mock::given(wiremock::matchers::method("GET"))
        .and(wiremock::matchers::path("/event_type_available_times"))
        .and(StartInThePast)
        .respond_with(wiremock::ResponseTemplate::new(400).set_body_json(error(400)))
        .with_priority(1)
        .mount(server)
        .await;
}

/// Matches a request whose `start_time` is before the moment it is matched.
struct StartInThePast;

impl wiremock::Match for StartInThePast {
    fn matches(&self, request: &wiremock::Request) -> bool {
        request
            .url
            .query_pairs()
            .find(|(name, _)| name == "start_time")
            .and_then(|(_, value)| chrono::DateTime::parse_from_rfc3339(&value).ok())
            .is_some_and(|start| start < chrono::Utc::now())
    }
}

/// A Calendly that answers every request with the head of a 200 and only the start of its
/// body, then hangs up: its address, and how many connections it was asked for.
pub async fn cutting_answers_short() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binds");
    let address = format!("http://{}", listener.local_addr().expect("address"));
    let connections = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&connections);
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            let mut request = [0_u8; 8192];
            let _ = stream.read(&mut request).await;
            let _ = stream
                .write_all(
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 500\r\n\r\n{\"resource\": {\"uri\": \"https://api.calendly.com/users/",
                )
                .await;
            let _ = stream.shutdown().await;
        }
    });
    (address, connections)
}
