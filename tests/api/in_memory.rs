//! The gateway's real startup with another provider than Calendly: one in memory
//! (`test_support::InMemoryScheduling`), behind the same cache, use cases and routes. The basic
//! flow works without Calendly, so adding a provider is an adapter and its wiring.

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::json;
use test_support::{IN_MEMORY_BASE, InMemoryScheduling};

use crate::helpers::{TestApp, USER, days_ahead, json_of};
use crate::webhooks_end_to_end::starts;

const TOKEN: &str = "in-memory-token";

#[tokio::test]
async fn the_basic_flow_through_an_in_memory_provider() {
    let provider = InMemoryScheduling::new();
    provider.add_account(TOKEN, "ada");
    crate::secrets_in_logs::register_secret(TOKEN);
    let app = TestApp::spawn_with_scheduling(provider.clone()).await;

    // Connect: the provider says whose token it is.
    let (status, connection) = json_of(
        app.put_connection_as(USER, &json!({ "personal_access_token": TOKEN }))
            .await,
    )
    .await;
    assert_eq!(status, 200, "{connection}");
    let user_uri = format!("{IN_MEMORY_BASE}/users/ada");
    assert_eq!(connection["user_uri"], json!(user_uri), "{connection}");

    let (status, user) = json_of(app.get("/calendly/user").await).await;
    assert_eq!(status, 200, "{user}");
    assert!(user.to_string().contains(&user_uri), "{user}");

    let (status, event_types) = json_of(app.get("/calendly/user-event-types").await).await;
    assert_eq!(status, 200, "{event_types}");
    assert_eq!(
        event_types.as_array().map(Vec::len),
        Some(3),
        "{event_types}"
    );

    // Availability of the first active event type, tomorrow: 09:00 to 16:00 UTC.
    let (start, end): (DateTime<Utc>, DateTime<Utc>) = (days_ahead(1), days_ahead(2));
    let check = format!(
        "/calendly/check-availability?start_time={}&end_time={}",
        start.format("%Y-%m-%dT%H:%M:%SZ"),
        end.format("%Y-%m-%dT%H:%M:%SZ")
    );
    let (status, available) = json_of(app.get(&check).await).await;
    assert_eq!(status, 200, "{available}");
    let offered = starts(&available);
    assert_eq!(offered.len(), 8, "{available}");

    // Slots of both active event types, with their seats and booking URLs.
    let slots_path = format!(
        "/calendly/slots?start_time={}&end_time={}&timezone=UTC",
        start.format("%Y-%m-%dT%H:%M:%SZ"),
        end.format("%Y-%m-%dT%H:%M:%SZ")
    );
    let (status, slots) = json_of(app.get(&slots_path).await).await;
    assert_eq!(status, 200, "{slots}");
    let day = &slots["days"][0]["slots"];
    assert_eq!(day.as_array().map(Vec::len), Some(16), "{slots}");
    assert_eq!(day[0]["invitees_remaining"], 1, "{slots}");
    assert!(
        day[0]["scheduling_url"]
            .as_str()
            .is_some_and(|url| url.starts_with(IN_MEMORY_BASE)),
        "{slots}"
    );

    // Booked at the provider: gone from the next answer (the test's cache keeps no times).
    let nine = start + TimeDelta::hours(9);
    provider.book(TOKEN, nine);
    let (_, available) = json_of(app.get(&check).await).await;
    assert_eq!(starts(&available).len(), 7);
    let (status, busy) = json_of(
        app.get(&format!(
            "/calendly/busy-times?start_time={}&end_time={}",
            start.format("%Y-%m-%dT%H:%M:%SZ"),
            end.format("%Y-%m-%dT%H:%M:%SZ")
        ))
        .await,
    )
    .await;
    assert_eq!(status, 200, "{busy}");
    assert_eq!(
        busy["collection"].as_array().map(Vec::len),
        Some(1),
        "{busy}"
    );

    // An unknown token is refused by the provider, and nothing is stored.
    let (status, refused) = json_of(
        app.put_connection_as(
            "someone-else",
            &json!({ "personal_access_token": "not-known" }),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, &refused["code"]),
        (422, &json!("calendly_token_invalid"))
    );
    assert!(provider.calls() > 0);
}
