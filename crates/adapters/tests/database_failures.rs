//! A PostgreSQL server that times a statement out or ends the gateway's connection is
//! "unavailable", whatever language it writes its messages in: here German, as a server with
//! other `lc_messages` writes them. (diesel-async does not pass PostgreSQL's SQLSTATE on, so the
//! repository reads neither; it goes by its own deadline and by whether the connection still
//! answers.)

use std::sync::Arc;
use std::time::Duration;

use adapters::crypto::TokenCipher;
use adapters::postgres::{PgPoolSettings, PgTokenRepository, build_pool, run_migrations};
use base64::Engine as _;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use domain::{RepositoryError, TokenRepository, UserId};
use secrecy::SecretString;
use test_support::PgCluster;

fn repository(url: &str, query_timeout: Duration) -> PgTokenRepository {
    let settings = PgPoolSettings {
        url: SecretString::from(url),
        max_size: 2,
        acquire_timeout: Duration::from_secs(5),
        statement_timeout: query_timeout,
    };
    let key = SecretString::from(base64::engine::general_purpose::STANDARD.encode([3_u8; 32]));
    let cipher = Arc::new(TokenCipher::from_keys(&[("default".into(), key)]).expect("key"));
    PgTokenRepository::new(build_pool(&settings).expect("pool"), cipher, query_timeout)
}

#[derive(diesel::QueryableByName)]
struct Pid {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    pid: i32,
}

/// The pids of the gateway's connections running a statement now.
async fn busy_gateway_connections(sql: &mut AsyncPgConnection) -> Vec<i32> {
    diesel::sql_query(
        "SELECT pid FROM pg_stat_activity \
         WHERE application_name = 'calendly-gateway' AND state = 'active'",
    )
    .load::<Pid>(sql)
    .await
    .expect("read")
    .into_iter()
    .map(|row| row.pid)
    .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_german_server_timing_out_or_ending_the_connection_is_unavailable() {
    let cluster = PgCluster::start_in_language("de");
    let url = cluster.url();
    let mut sql = AsyncPgConnection::establish(&url).await.expect("connects");
    let error = sql
        .batch_execute("SELECT 1/0")
        .await
        .expect_err("division by zero");
    assert!(
        error.to_string().contains("Division durch Null"),
        "the server should speak German: {error}"
    );
    run_migrations(&SecretString::from(url.clone()))
        .await
        .expect("migrations apply");
    let user = UserId::parse("42").expect("user");

    // A lock held elsewhere makes every read of the table wait.
    let mut locker = AsyncPgConnection::establish(&url).await.expect("connects");
    locker
        .batch_execute("BEGIN; LOCK TABLE calendly_connections IN ACCESS EXCLUSIVE MODE")
        .await
        .expect("locked");

    // The statement outlasts the deadline.
    let error = TokenRepository::load(&repository(&url, Duration::from_millis(300)), &user)
        .await
        .expect_err("waits past its deadline");
    assert!(
        matches!(error, RepositoryError::Unavailable(_)),
        "{error:?}"
    );

    // The server ends the connection while its statement waits. (First the statement given up
    // above ends, at the server's own timeout a second after the gateway's.)
    while !busy_gateway_connections(&mut sql).await.is_empty() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // A read whose connection ended is made once more, on another connection: ended too, it
    // is unavailable.
    let waiting = repository(&url, Duration::from_secs(30));
    let load = tokio::spawn(async move { TokenRepository::load(&waiting, &user).await });
    for _ in 0..2 {
        let pid = loop {
            if let Some(pid) = busy_gateway_connections(&mut sql).await.into_iter().next() {
                break pid;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        diesel::sql_query(format!("SELECT pg_terminate_backend({pid})"))
            .execute(&mut sql)
            .await
            .expect("terminated");
    }
    let error = load.await.expect("joins").expect_err("ended");
    assert!(
        matches!(&error, RepositoryError::Unavailable(reason) if !reason.contains("did not answer within")),
        "unavailable because the connection ended, not by the deadline: {error:?}"
    );

    // A query the server refuses for what it is stays unexpected.
    locker.batch_execute("ROLLBACK").await.expect("unlocked");
    sql.batch_execute("DROP TABLE calendly_connections")
        .await
        .expect("dropped");
    let user = UserId::parse("42").expect("user");
    let error = TokenRepository::load(&repository(&url, Duration::from_secs(5)), &user)
        .await
        .expect_err("no table");
    assert!(matches!(error, RepositoryError::Unexpected(_)), "{error:?}");
}
