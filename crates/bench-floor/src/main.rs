//! The floor of a pass-through check, for the benchmark: every request's path, query and
//! `Authorization` are sent on to the upstream (the Calendly stand-in) with the gateway's own
//! HTTP stack, actix-web in and reqwest out, built as the gateway builds its client, and the
//! upstream's body comes back as it is; `/healthz` answers as the gateway's does. No
//! authentication, no token store, no reading of the answer, no logs, no metrics: what is left
//! is what any pass-through on these crates costs, so that the benchmark can say how much of a
//! check is the gateway's own work.
//!
//!   bench-floor --upstream http://127.0.0.1:PORT [--port 0]

use std::time::Duration;

use actix_web::http::header::{AUTHORIZATION, CONTENT_TYPE};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use clap::Parser;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(about = "A bare pass-through to the Calendly stand-in: the benchmark's floor")]
struct Args {
    /// The port to listen on, on 127.0.0.1 (0: any free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Where requests are sent on to, as `http://HOST:PORT`.
    #[arg(long)]
    upstream: String,
}

struct Upstream {
    http: reqwest::Client,
    base: String,
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(r#"{"status":"ok"}"#)
}

async fn pass_on(request: HttpRequest, upstream: web::Data<Upstream>) -> HttpResponse {
    let target = request.uri().path_and_query().map_or("/", |p| p.as_str());
    let mut call = upstream
        .http
        .get(format!("{}{target}", upstream.base))
        .timeout(Duration::from_secs(10));
    if let Some(token) = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
    {
        call = call.header(AUTHORIZATION.as_str(), token);
    }
    let answer = match call.send().await {
        Ok(answer) => answer,
        Err(error) => return HttpResponse::BadGateway().body(error.to_string()),
    };
    let status = answer.status().as_u16();
    match answer.bytes().await {
        Ok(body) => HttpResponse::build(
            actix_web::http::StatusCode::from_u16(status)
                .unwrap_or(actix_web::http::StatusCode::BAD_GATEWAY),
        )
        .insert_header((CONTENT_TYPE, "application/json"))
        .body(body),
        Err(error) => HttpResponse::BadGateway().body(error.to_string()),
    }
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let args = Args::parse();
    // reqwest is built without a TLS provider (as in the gateway): plain HTTP needs none, but
    // the client refuses to build until one is installed.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let base = args.upstream.trim_end_matches('/').to_owned();
    let workers = std::thread::available_parallelism().map_or(1, usize::from);
    // As the gateway: as many workers as CPUs, each with a Calendly client of its own (a
    // connection is served by the thread that opened it), pooled, no redirects, no retries,
    // no delay.
    let server = HttpServer::new(move || {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(64)
            .pool_idle_timeout(Duration::from_secs(90))
            .tcp_nodelay(true)
            .redirect(reqwest::redirect::Policy::none())
            .retry(reqwest::retry::never())
            .build()
            .expect("a client without TLS settings builds once a provider is installed");
        App::new()
            .app_data(web::Data::new(Upstream {
                http,
                base: base.clone(),
            }))
            .route("/healthz", web::get().to(healthz))
            .default_service(web::get().to(pass_on))
    })
    .workers(workers)
    .bind(("127.0.0.1", args.port))?;
    for address in server.addrs() {
        // The address is the benchmark's to read (`listening on http://…`), on stdout.
        #[allow(clippy::print_stdout)]
        {
            println!("bench-floor listening on http://{address}");
        }
    }
    server.run().await
}
