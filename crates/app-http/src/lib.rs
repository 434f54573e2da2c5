//! The calendly-gateway service: HTTP handlers, the error mapping, configuration, telemetry,
//! and the wiring of adapters into the domain's ports.

pub mod auth;
pub mod error;
pub mod metrics;
pub mod request_id;
pub mod routes;
pub mod settings;
pub mod startup;
pub mod state;
pub mod telemetry;

pub use settings::Settings;
pub use startup::Application;
