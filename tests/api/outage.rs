//! The database going away and coming back while requests run: 503 quickly while it is gone,
//! service again by itself once it is back, with no restart of the gateway.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use secrecy::SecretString;
use test_support::PgCluster;
use tokio::sync::Mutex;

use crate::helpers::{TestApp, USER};

/// One answer of the background load: when it was asked, its status and code, how long it took.
#[derive(Debug, Clone)]
struct Answer {
    at: Instant,
    status: u16,
    code: Option<String>,
    took: Duration,
}

async fn ask(app: &TestApp, path: &str) -> Answer {
    let at = Instant::now();
    let response = app.get_as(USER, path).await;
    let status = response.status().as_u16();
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    Answer {
        at,
        status,
        code: body["code"].as_str().map(str::to_owned),
        took: at.elapsed(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_postgresql_gives_503s_and_service_resumes_when_it_is_back() {
    let cluster = PgCluster::start();
    let url = cluster.url();
    let app = Arc::new(
        TestApp::spawn_with(|settings| {
            settings.database.url = SecretString::from(url);
            settings.database.pool_timeout_ms = 1000;
        })
        .await,
    );
    app.connect().await;

    // Requests keep running throughout.
    let answers = Arc::new(Mutex::new(Vec::<Answer>::new()));
    let running = Arc::new(AtomicBool::new(true));
    let load = tokio::spawn({
        let (app, answers, running) =
            (Arc::clone(&app), Arc::clone(&answers), Arc::clone(&running));
        async move {
            while running.load(Ordering::SeqCst) {
                let answer = ask(&app, "/calendly/user").await;
                answers.lock().await.push(answer);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;

    tokio::task::block_in_place(|| cluster.pause());
    let stopped_at = Instant::now();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let readiness = ask(&app, "/readyz").await;
    assert_eq!(readiness.status, 503, "{readiness:?}");

    let resuming_at = Instant::now();
    tokio::task::block_in_place(|| cluster.resume());
    let resumed_at = Instant::now();
    let mut back = None;
    while resumed_at.elapsed() < Duration::from_secs(15) {
        if ask(&app, "/calendly/user").await.status == 200 {
            back = Some(resumed_at.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let back = back.expect("a 200 within 15 s of PostgreSQL being back");
    assert_eq!(ask(&app, "/readyz").await.status, 200);
    running.store(false, Ordering::SeqCst);
    load.await.expect("joins");

    let answers = answers.lock().await;
    let during: Vec<&Answer> = answers
        .iter()
        .filter(|a| a.at > stopped_at && a.at + a.took < resuming_at)
        .collect();
    assert!(!during.is_empty());
    for answer in &during {
        assert_eq!(
            (answer.status, answer.code.as_deref()),
            (503, Some("database_unavailable")),
            "{answer:?}"
        );
    }
    for answer in answers.iter() {
        assert!(
            matches!(answer.status, 200 | 503),
            "{answer:?}; logged: {:#?}",
            crate::secrets_in_logs::lines_with("request failed unexpectedly")
        );
    }
    eprintln!(
        "while PostgreSQL was down: {} answers, all 503, the slowest in {:?}; 200 again {:?} after it was started",
        during.len(),
        during.iter().map(|a| a.took).max().unwrap_or_default(),
        back
    );
}
