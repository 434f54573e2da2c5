//! The Calendly adapter following each account's rate limit, against a wiremock Calendly that
//! sends the rate-limit headers.

use std::sync::Arc;
use std::time::Duration;

use adapters::calendly::{CalendlyClient, RateBudgets};
use domain::{CalendlyToken, CalendlyUserUri, ProviderError, SchedulingProvider};
use test_support::calendly;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

mod support;

fn client(server: &MockServer, budgets: &Arc<RateBudgets>) -> CalendlyClient {
    let timeout = Duration::from_secs(5);
    support::client_with(
        &server.uri(),
        timeout,
        support::never_open(),
        None,
        Arc::clone(budgets),
    )
}

fn token() -> CalendlyToken {
    CalendlyToken::parse("calendly-token").expect("token")
}

fn with_budget(response: ResponseTemplate, remaining: u32, reset_secs: u32) -> ResponseTemplate {
    response
        .insert_header("X-RateLimit-Limit", "50")
        .insert_header("X-RateLimit-Remaining", remaining.to_string().as_str())
        .insert_header("X-RateLimit-Reset", reset_secs.to_string().as_str())
}

async fn event_types_answer(server: &MockServer, remaining: u32, calls: u64) {
    Mock::given(method("GET"))
        .and(path("/event_types"))
        .and(query_param("user", calendly::user_uri().as_str()))
        .respond_with(with_budget(
            ResponseTemplate::new(200).set_body_json(calendly::event_types_page(
                &[calendly::event_type(
                    "https://api.calendly.com/event_types/E1",
                    "Thirty minutes",
                )],
                None,
            )),
            remaining,
            40,
        ))
        .expect(calls)
        .mount(server)
        .await;
}

fn assert_refused(result: Result<impl std::fmt::Debug, ProviderError>) {
    match result {
        Err(ProviderError::RateLimited {
            retry_after: Some(wait),
            details,
        }) => {
            assert!(
                wait > Duration::from_secs(30) && wait <= Duration::from_secs(40),
                "{wait:?}"
            );
            assert!(details.is_null(), "the gateway's own refusal");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn once_the_budget_is_spent_calls_are_refused_without_reaching_calendly() {
    let server = MockServer::start().await;
    let budgets = Arc::new(RateBudgets::default());
    let client = client(&server, &budgets);
    let user = CalendlyUserUri::parse(calendly::user_uri()).expect("uri");
    // Two calls left as of the first answer: that one and one more go out, no third.
    event_types_answer(&server, 2, 3).await;
    for _ in 0..3 {
        client.event_types(&token(), &user).await.expect("answered");
    }
    assert_refused(client.event_types(&token(), &user).await);
    // Another client of the process shares the budget.
    let other = self::client(&server, &budgets);
    assert_refused(other.event_types(&token(), &user).await);
    server.verify().await;
}

#[tokio::test]
async fn the_budget_is_learned_from_users_me_and_from_calendlys_429() {
    let server = MockServer::start().await;
    let budgets = Arc::new(RateBudgets::default());
    let client = client(&server, &budgets);
    Mock::given(method("GET"))
        .and(path("/users/me"))
        .respond_with(with_budget(
            ResponseTemplate::new(200).set_body_json(calendly::users_me()),
            0,
            40,
        ))
        .mount(&server)
        .await;
    let user = client.current_user(&token()).await.expect("user");
    event_types_answer(&server, 10, 0).await;
    assert_refused(client.event_types(&token(), &user.uri).await);

    // Another account: Calendly's 429 spends it until its reset.
    let other = CalendlyUserUri::parse("https://api.calendly.com/users/OTHER").expect("uri");
    Mock::given(method("GET"))
        .and(path("/user_availability_schedules"))
        .respond_with(with_budget(
            ResponseTemplate::new(429).set_body_json(calendly::error(429)),
            0,
            40,
        ))
        .expect(1)
        .mount(&server)
        .await;
    let first = client.availability_schedules(&token(), &other).await;
    assert!(
        matches!(first, Err(ProviderError::RateLimited { ref details, .. }) if !details.is_null()),
        "Calendly's own 429 is passed on: {first:?}"
    );
    assert_refused(client.availability_schedules(&token(), &other).await);
    server.verify().await;
}
