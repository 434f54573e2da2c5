//! API tests: the real application on port 0, a wiremock Calendly, a real PostgreSQL
//! (one database per test).

mod helpers;

mod auth;
mod availability;
mod binary;
mod bookings_end_to_end;
mod cache_race;
mod calendar;
mod connection;
mod demo;
mod deployment;
mod errors;
mod event_types;
mod fast_path;
mod faults;
mod health;
mod in_memory;
mod many_instances;
mod oauth;
mod oauth_end_to_end;
mod operations;
mod outage;
mod rate_budget;
mod request_id;
mod secrets_in_logs;
mod shared_tier;
mod slots;
mod stand_in;
mod tls;
mod user;
mod webhooks;
mod webhooks_end_to_end;
mod webhooks_health;
