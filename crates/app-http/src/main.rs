//! `calendly-gateway`: serve (the default), migrate, rotate the token encryption key, or print
//! an access token.

use std::process::ExitCode;
use std::time::Duration;

use adapters::jwt::JwtIssuer;
use app_http::startup::{self, Application};
use app_http::{Settings, telemetry};
use clap::{Parser, Subcommand};
use domain::UserId;

// Much of a request's work is short-lived allocations (JSON, HTTP messages): mimalloc makes
// them markedly cheaper than the system allocator (see docs/benchmark.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(
    name = "calendly-gateway",
    version,
    about = "Your users' Calendly accounts, behind one REST API"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Apply pending migrations, then serve HTTP until SIGINT/SIGTERM (the default).
    Serve,
    /// Apply pending migrations and exit.
    Migrate,
    /// Re-encrypt every stored Calendly token with the current key (the first of
    /// calendly.token_encryption_keys), then exit.
    RotateKeys,
    /// Print one signed access token for a user (local development and tests).
    Token {
        /// The user id, the token's `sub`.
        #[arg(long)]
        user_id: String,
        /// Lifetime in seconds.
        #[arg(long, default_value_t = 3600)]
        ttl_secs: u64,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::load() {
        Ok(settings) => settings,
        Err(error) => return fail(&error),
    };
    match cli.command.unwrap_or(Command::Serve) {
        Command::Token { user_id, ttl_secs } => token(&settings, user_id, ttl_secs),
        Command::Migrate => run(&settings, async {
            let applied = startup::migrate(&settings)
                .await
                .map_err(|e| e.to_string())?;
            tracing::info!(count = applied.len(), ?applied, "migrations applied");
            Ok(())
        }),
        Command::RotateKeys => run(&settings, async {
            let done = startup::rotate_keys(&settings)
                .await
                .map_err(|e| e.to_string())?;
            tracing::info!(
                rotated = done.rotated,
                undecryptable = done.undecryptable,
                changed_meanwhile = done.changed_meanwhile,
                "stored Calendly tokens re-encrypted with the current key"
            );
            if done.undecryptable > 0 {
                return Err(format!(
                    "{} stored token(s) could not be decrypted with any configured key and were left as they are; their users must reconnect",
                    done.undecryptable
                ));
            }
            Ok(())
        }),
        Command::Serve => run(&settings, async {
            let application = Application::build(settings.clone())
                .await
                .map_err(|e| e.to_string())?;
            application
                .run_until_stopped()
                .await
                .map_err(|e| e.to_string())?;
            tracing::info!("stopped");
            Ok(())
        }),
    }
}

fn token(settings: &Settings, user_id: String, ttl_secs: u64) -> ExitCode {
    let user_id = match UserId::parse(user_id) {
        Ok(user_id) => user_id,
        Err(error) => return fail(&error),
    };
    let token =
        JwtIssuer::new(&settings.auth.jwt_secret).issue(&user_id, Duration::from_secs(ttl_secs));
    #[allow(clippy::print_stdout)]
    {
        println!("{token}");
    }
    ExitCode::SUCCESS
}

fn run(settings: &Settings, work: impl Future<Output = Result<(), String>>) -> ExitCode {
    telemetry::init(&settings.log);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => return fail(&error),
    };
    match runtime.block_on(work) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "calendly-gateway failed");
            fail(&error)
        }
    }
}

fn fail(error: &dyn std::fmt::Display) -> ExitCode {
    eprintln!("calendly-gateway: {error}");
    ExitCode::FAILURE
}
