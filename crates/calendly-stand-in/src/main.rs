//! A stand-in for Calendly's API v2, for local development and benchmarks (never for tests of
//! Calendly's own behaviour: those use the documented bodies through wiremock).
//!
//! Every bearer token is a user of its own (its URI derived from the token), except tokens
//! starting with `invalid`, which get Calendly's 401. It serves:
//! - `GET /users/me`;
//! - `GET /event_types?user=URI[&count=N][&page_token=T]`: `--event-types` per user (15, 30,
//!   45… minutes long, every fourth inactive), paginated;
//! - `GET /event_type_available_times?event_type=URI&start_time=…&end_time=…`: a slot every
//!   `--slot-minutes` within 09:00–17:00 UTC, refusing ranges over 31 days and starts already
//!   past when read (no leeway, as Calendly), with Calendly's 400 body;
//! - `GET /user_busy_times?user=URI&start_time=…&end_time=…`: a busy half hour each day at
//!   12:00 UTC and an external hour on Wednesdays at 15:00 UTC, refusing ranges over 7 days and
//!   past starts; `GET /user_availability_schedules?user=URI`: working hours, Monday to Friday
//!   (see [`calendar`]);
//! - `GET /oauth/authorize`, `POST /oauth/token`, `POST /oauth/revoke`: Calendly's OAuth server
//!   (see [`oauth`]); its access tokens are accepted by the endpoints above until they expire;
//! - `/webhook_subscriptions`, and `POST /admin/book` and `POST /admin/change_event_type`,
//!   which change things and deliver the signed webhooks (see [`webhooks`]);
//! - `POST /invitees`, Calendly's booking API, with its checks and its own limits (see
//!   [`invitees`]); `GET /scheduled_events[/{uuid}[/invitees]]` and
//!   `POST /scheduled_events/{uuid}/cancellation` (see [`events`]); event types carry their
//!   questions, locations and seats (see [`catalog`]);
//! - Calendly's scopes: an OAuth token has those its authorization asked for (`scope`; none
//!   asked: every one, answered as `default`), a personal access token written
//!   `scoped[users:read,event_types:read]…` those listed (any other: every one); a call
//!   without its scope is Calendly's 403 naming it;
//! - `GET /stats`: calls received per endpoint (`DELETE /stats` resets them, and the rate
//!   limit's windows).
//!
//! Every answer of the API carries Calendly's rate-limit headers; past
//! `--rate-limit-per-minute` calls of a user in a minute, it answers 429 (see [`limits`]).
//!
//! `--latency-ms` delays every answer, as a distant Calendly would.

// Its helpers fail with the very response Calendly would give; a large `Err` is the point.
#![allow(clippy::result_large_err)]

mod admin;
mod auth;
mod available;
mod booking_limit;
mod calendar;
mod catalog;
mod counters;
mod events;
mod grants;
mod hooks;
mod invitees;
mod limits;
mod oauth;
mod rate_limit;
mod respond;
mod scheduled;
mod state;
mod stats;
mod webhooks;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use chrono::TimeDelta;
use clap::Parser;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::user_with;
use crate::respond::{API, error};
use crate::state::{StandIn, pause};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(
    name = "calendly-stand-in",
    about = "A local stand-in for Calendly's API"
)]
struct Options {
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// 0 picks a free port; the bound address is printed.
    #[arg(long, default_value_t = 8090)]
    port: u16,
    /// Added to every answer.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Event types each user has: 15, 30, 45… minutes long; every fourth is inactive.
    #[arg(long, default_value_t = 4)]
    event_types: usize,
    /// Minutes between available slots.
    #[arg(long, default_value_t = 60)]
    slot_minutes: i64,
    #[arg(long, default_value_t = 2)]
    workers: usize,
    /// The OAuth application's client id.
    #[arg(long, default_value = "stand-in-client")]
    oauth_client_id: String,
    /// The OAuth application's client secret.
    #[arg(long, default_value = "stand-in-client-secret")]
    oauth_client_secret: String,
    /// Lifetime of the OAuth access tokens it issues (Calendly's: two hours).
    #[arg(long, default_value_t = 7200)]
    access_token_ttl_secs: u64,
    /// The user declines at /oauth/authorize.
    #[arg(long)]
    deny_authorization: bool,
    /// Calls each user may make a minute (Calendly's paid plans: 500; free: 50).
    #[arg(long, default_value_t = 500)]
    rate_limit_per_minute: u32,
    /// Refuse webhook subscriptions, as a plan without webhooks.
    #[arg(long)]
    no_webhooks: bool,
    /// The OAuth application's webhook signing key: subscriptions made with its access tokens
    /// are signed with it.
    #[arg(long, default_value = "stand-in-webhook-signing-key")]
    oauth_webhook_signing_key: String,
    /// How long a subscription's deliveries may fail before it is disabled (Calendly: a day).
    #[arg(long, default_value_t = 86_400)]
    webhook_disable_after_secs: i64,
    /// Bookings (`POST /invitees`) each user may make a minute, an hour and a day (Calendly's
    /// paid plans: 10, 50, 100).
    #[arg(long, num_args = 3, value_names = ["MINUTE", "HOUR", "DAY"], default_values_t = [10, 50, 100])]
    booking_limit: Vec<u32>,
}

async fn users_me(request: HttpRequest, state: web::Data<StandIn>) -> HttpResponse {
    state.calls.users_me.fetch_add(1, Ordering::Relaxed);
    pause(&state).await;
    let user = match user_with(&request, &state, "users:read") {
        Ok(user) => user,
        Err(response) => return response,
    };
    HttpResponse::Ok().json(json!({
        "resource": {
            "uri": format!("{API}/users/{user}"),
            "name": format!("Stand-in User {user}"),
            "slug": user.to_lowercase(),
            "email": format!("{}@example.com", user.to_lowercase()),
            "scheduling_url": format!("https://calendly.com/{}", user.to_lowercase()),
            "timezone": "Europe/Berlin",
            "avatar_url": null,
            "created_at": "2019-01-02T03:04:05.678123Z",
            "updated_at": "2019-08-07T06:05:04.321123Z",
            "current_organization": format!("{API}/organizations/{user}")
        }
    }))
}

#[derive(Debug, Deserialize)]
struct EventTypesQuery {
    user: Option<String>,
    count: Option<usize>,
    page_token: Option<String>,
}

async fn event_types(
    request: HttpRequest,
    query: web::Query<EventTypesQuery>,
    state: web::Data<StandIn>,
) -> HttpResponse {
    state.calls.event_types.fetch_add(1, Ordering::Relaxed);
    pause(&state).await;
    let user = match user_with(&request, &state, "event_types:read") {
        Ok(user) => user,
        Err(response) => return response,
    };
    if query.user.as_deref() != Some(format!("{API}/users/{user}").as_str()) {
        return error(
            403,
            "Permission Denied",
            "This user is not in your organization",
        );
    }
    let (offset, count) = match respond::paging(query.count, query.page_token.as_deref()) {
        Ok(paging) => paging,
        Err(response) => return response,
    };
    let end = (offset + count).min(state.event_types);
    let collection: Vec<Value> = (offset..end)
        .map(|i| {
            let mut event_type = json!({
                "uri": format!("{API}/event_types/{user}-{i}"),
                "name": match state.hooks.changes_of(&format!("{API}/event_types/{user}-{i}")) {
                    0 => format!("{} Minute Meeting", 15 * (i + 1)),
                    n => format!("{} Minute Meeting (changed {n} times)", 15 * (i + 1)),
                },
                "active": catalog::kind(i).active,
                "slug": format!("meeting-{i}"),
                "scheduling_url": format!("https://calendly.com/{}/meeting-{i}", user.to_lowercase()),
                "duration": 15 * (i + 1),
                "type": "StandardEventType",
                "color": "#fff200",
                "created_at": "2019-01-02T03:04:05.678123Z",
                "updated_at": "2019-08-07T06:05:04.321123Z",
                "profile": { "type": "User", "name": format!("Stand-in User {user}"), "owner": format!("{API}/users/{user}") },
                "secret": false,
                "deleted_at": null,
                "admin_managed": false,
            });
            for (key, value) in catalog::kind(i).fields() {
                event_type[key] = value;
            }
            event_type
        })
        .collect();
    let next = (end < state.event_types).then(|| end.to_string());
    HttpResponse::Ok().json(json!({
        "collection": collection,
        "pagination": {
            "count": count,
            "next_page": next.as_ref().map(|t| format!("{API}/event_types?count={count}&page_token={t}")),
            "previous_page": null,
            "next_page_token": next,
            "previous_page_token": null
        }
    }))
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let options = Options::parse();
    let state = web::Data::from(Arc::new(StandIn {
        latency: Duration::from_millis(options.latency_ms),
        event_types: options.event_types,
        slot: TimeDelta::minutes(options.slot_minutes),
        calls: counters::Counters::default(),
        oauth: grants::OAuth::new(
            options.oauth_client_id,
            options.oauth_client_secret,
            Duration::from_secs(options.access_token_ttl_secs),
            options.deny_authorization,
        ),
        limit: rate_limit::RateLimit::new(options.rate_limit_per_minute),
        scheduled: scheduled::Scheduled::default(),
        bookings_limit: booking_limit::BookingLimit::new(
            <[u32; 3]>::try_from(options.booking_limit.as_slice()).unwrap_or([10, 50, 100]),
        ),
        hooks: hooks::Hooks::new(
            !options.no_webhooks,
            options.oauth_webhook_signing_key,
            TimeDelta::seconds(options.webhook_disable_after_secs),
        ),
    }));
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .wrap(actix_web::middleware::from_fn(limits::limited))
            .route("/users/me", web::get().to(users_me))
            .route("/event_types", web::get().to(event_types))
            .route(
                "/event_type_available_times",
                web::get().to(available::available_times),
            )
            .route("/user_busy_times", web::get().to(calendar::busy_times))
            .route(
                "/user_availability_schedules",
                web::get().to(calendar::availability_schedules),
            )
            .route("/oauth/authorize", web::get().to(oauth::authorize))
            .route("/oauth/token", web::post().to(oauth::token))
            .route("/oauth/revoke", web::post().to(oauth::revoke))
            .route(
                "/oauth/refresh_tokens",
                web::delete().to(oauth::revoke_refresh_tokens),
            )
            .route("/webhook_subscriptions", web::post().to(webhooks::create))
            .route("/webhook_subscriptions", web::get().to(webhooks::list))
            .route(
                "/webhook_subscriptions/{uuid}",
                web::delete().to(webhooks::delete),
            )
            .route(
                "/webhook_subscriptions/{uuid}",
                web::get().to(webhooks::show),
            )
            .route(
                "/admin/disable_subscriptions",
                web::post().to(admin::disable_subscriptions),
            )
            .route(
                "/admin/refuse_subscriptions",
                web::post().to(admin::refuse_subscriptions),
            )
            .route("/invitees", web::post().to(invitees::create))
            .route("/scheduled_events", web::get().to(events::list))
            .route("/scheduled_events/{uuid}", web::get().to(events::one))
            .route(
                "/scheduled_events/{uuid}/invitees",
                web::get().to(events::invitees),
            )
            .route(
                "/scheduled_events/{uuid}/cancellation",
                web::post().to(events::cancel),
            )
            .route("/admin/book", web::post().to(admin::book))
            .route(
                "/admin/cut_booking_answers",
                web::post().to(admin::cut_booking_answers),
            )
            .route(
                "/admin/change_event_type",
                web::post().to(admin::change_event_type),
            )
            .route("/stats", web::get().to(stats::stats))
            .route("/stats", web::delete().to(stats::reset_stats))
    })
    .workers(options.workers)
    .bind((options.host.as_str(), options.port))?;
    for address in server.addrs() {
        #[allow(clippy::print_stdout)]
        {
            println!("calendly-stand-in listening on http://{address}");
        }
    }
    server.run().await
}
