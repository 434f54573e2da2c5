//! The PostgreSQL token repository against a real server, one database per test.

use std::sync::Arc;
use std::time::{Duration, Instant};

use adapters::crypto::TokenCipher;
use adapters::postgres::{PgPoolSettings, PgTokenRepository, build_pool, run_migrations};
use base64::Engine as _;
use chrono::DateTime;
use domain::{
    CalendlyConnection, CalendlyToken, CalendlyUser, CalendlyUserUri, RepositoryError,
    TokenRepository, UserId,
};
use secrecy::SecretString;
use test_support::TestDatabase;

fn key(byte: u8) -> SecretString {
    SecretString::from(base64::engine::general_purpose::STANDARD.encode([byte; 32]))
}

fn pool_settings(url: &str) -> PgPoolSettings {
    PgPoolSettings {
        url: SecretString::from(url),
        max_size: 8,
        acquire_timeout: Duration::from_secs(2),
        statement_timeout: Duration::from_secs(5),
    }
}

async fn repository_with_key(db: &TestDatabase, key_byte: u8) -> PgTokenRepository {
    let settings = pool_settings(db.url());
    run_migrations(&settings.url)
        .await
        .expect("migrations apply");
    let cipher = TokenCipher::from_base64("default", &key(key_byte)).expect("key");
    PgTokenRepository::new(build_pool(&settings).expect("pool"), Arc::new(cipher))
}

async fn repository(db: &TestDatabase) -> PgTokenRepository {
    repository_with_key(db, 7).await
}

fn connection(user: &str, token: &str, calendly_user: &str) -> CalendlyConnection {
    CalendlyConnection {
        user_id: UserId::parse(user).expect("user id"),
        token: CalendlyToken::parse(token).expect("token"),
        calendly_user: CalendlyUser {
            uri: CalendlyUserUri::parse(format!("https://api.calendly.com/users/{calendly_user}"))
                .expect("uri"),
            name: format!("Name of {calendly_user}"),
            email: format!("{calendly_user}@example.com"),
            scheduling_url: format!("https://calendly.com/{calendly_user}"),
            timezone: "Europe/Berlin".into(),
        },
        connected_at: DateTime::parse_from_rfc3339("2030-01-01T12:34:56.123456Z")
            .expect("time")
            .to_utc(),
    }
}

fn user(id: &str) -> UserId {
    UserId::parse(id).expect("user id")
}

/// Plain SQL beside the repository, to see and change what it stored.
mod raw {
    use diesel::QueryableByName;
    use diesel::sql_types::{BigInt, Text};
    use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
    use test_support::TestDatabase;

    async fn connect(db: &TestDatabase) -> AsyncPgConnection {
        AsyncPgConnection::establish(db.url())
            .await
            .expect("connects")
    }

    #[derive(QueryableByName)]
    struct RowText {
        #[diesel(sql_type = Text)]
        row: String,
    }

    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        count: i64,
    }

    /// Every stored row as PostgreSQL's text of it (bytea as hex).
    pub async fn rows_as_text(db: &TestDatabase) -> Vec<String> {
        let rows: Vec<RowText> =
            diesel::sql_query("SELECT t::text AS row FROM calendly_connections t")
                .load(&mut connect(db).await)
                .await
                .expect("read");
        rows.into_iter().map(|r| r.row).collect()
    }

    pub async fn row_count(db: &TestDatabase) -> i64 {
        let counts: Vec<Count> =
            diesel::sql_query("SELECT count(*) AS count FROM calendly_connections")
                .load(&mut connect(db).await)
                .await
                .expect("counted");
        counts[0].count
    }

    pub async fn execute(db: &TestDatabase, statement: &str) {
        diesel::sql_query(statement)
            .execute(&mut connect(db).await)
            .await
            .expect("executed");
    }
}

#[tokio::test]
async fn a_saved_connection_loads_back_whole() {
    let db = TestDatabase::create().await;
    let repository = repository(&db).await;
    let saved = connection("42", "pat-secret-1", "AAAA");

    repository.save(&saved).await.expect("saved");
    let loaded = repository
        .load(&user("42"))
        .await
        .expect("loaded")
        .expect("present");

    assert_eq!(loaded.user_id, saved.user_id);
    assert_eq!(loaded.token.expose(), "pat-secret-1");
    assert_eq!(loaded.calendly_user, saved.calendly_user);
    assert_eq!(loaded.connected_at, saved.connected_at);
}

#[tokio::test]
async fn an_unknown_user_has_no_connection() {
    let db = TestDatabase::create().await;
    let repository = repository(&db).await;
    assert!(
        repository
            .load(&user("nobody"))
            .await
            .expect("loaded")
            .is_none()
    );
}

#[tokio::test]
async fn saving_again_replaces_the_earlier_connection() {
    let db = TestDatabase::create().await;
    let repository = repository(&db).await;
    repository
        .save(&connection("42", "old-token", "OLD"))
        .await
        .expect("saved");
    repository
        .save(&connection("42", "new-token", "NEW"))
        .await
        .expect("saved");
    repository
        .save(&connection("43", "other-token", "OTHER"))
        .await
        .expect("saved");

    let loaded = repository
        .load(&user("42"))
        .await
        .expect("loaded")
        .expect("present");
    assert_eq!(loaded.token.expose(), "new-token");
    assert_eq!(
        loaded.calendly_user.uri.as_str(),
        "https://api.calendly.com/users/NEW"
    );
    let other = repository
        .load(&user("43"))
        .await
        .expect("loaded")
        .expect("present");
    assert_eq!(other.token.expose(), "other-token");
}

#[tokio::test]
async fn delete_removes_only_that_users_connection() {
    let db = TestDatabase::create().await;
    let repository = repository(&db).await;
    repository
        .save(&connection("42", "t42", "A"))
        .await
        .expect("saved");
    repository
        .save(&connection("43", "t43", "B"))
        .await
        .expect("saved");

    assert!(repository.delete(&user("42")).await.expect("deleted"));
    assert!(
        !repository
            .delete(&user("42"))
            .await
            .expect("nothing to delete")
    );
    assert!(
        repository
            .load(&user("42"))
            .await
            .expect("loaded")
            .is_none()
    );
    assert!(
        repository
            .load(&user("43"))
            .await
            .expect("loaded")
            .is_some()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_saves_for_one_user_leave_exactly_one_whole_connection() {
    let db = TestDatabase::create().await;
    let repository = Arc::new(repository(&db).await);
    let saves = (0..24).map(|i| {
        let repository = Arc::clone(&repository);
        tokio::spawn(async move {
            repository
                .save(&connection("42", &format!("token-{i}"), &format!("U{i}")))
                .await
        })
    });
    for save in futures::future::join_all(saves).await {
        save.expect("task").expect("saved");
    }

    let loaded = repository
        .load(&user("42"))
        .await
        .expect("loaded")
        .expect("present");
    // Whichever save won, its token and its Calendly user belong together.
    let i = loaded.token.expose().trim_start_matches("token-");
    assert_eq!(
        loaded.calendly_user.uri.as_str(),
        format!("https://api.calendly.com/users/U{i}")
    );
    assert_eq!(raw::row_count(&db).await, 1);
}

#[tokio::test]
async fn the_database_never_holds_a_token_in_plain_text() {
    let db = TestDatabase::create().await;
    let repository = repository(&db).await;
    let token = "eyJraWQiOiIxY2UxZTEzNjE3ZGNmNzY2YjNjZWJjY2Y4ZGM1YmFmYThhNjVlNjg0";
    repository
        .save(&connection("42", token, "AAAA"))
        .await
        .expect("saved");

    // Every column of every row as text (bytea as hex); neither the token nor its hex appears.
    let rows = raw::rows_as_text(&db).await;
    assert_eq!(rows.len(), 1);
    let token_hex: String = token.bytes().map(|b| format!("{b:02x}")).collect();
    for row in &rows {
        assert!(!row.contains(token), "plain token stored: {row}");
        assert!(!row.contains(&token_hex), "token stored as bytes: {row}");
        assert!(row.contains("https://api.calendly.com/users/AAAA"), "{row}");
    }
}

#[tokio::test]
async fn a_token_sealed_with_another_key_is_undecryptable() {
    let db = TestDatabase::create().await;
    repository_with_key(&db, 7)
        .await
        .save(&connection("42", "pat", "A"))
        .await
        .expect("saved");

    let error = repository_with_key(&db, 8)
        .await
        .load(&user("42"))
        .await
        .expect_err("other key");
    assert!(matches!(error, RepositoryError::Undecryptable));
}

#[tokio::test]
async fn a_sealed_token_copied_to_another_user_does_not_open() {
    let db = TestDatabase::create().await;
    let repository = repository(&db).await;
    repository
        .save(&connection("42", "victim-token", "A"))
        .await
        .expect("saved");
    repository
        .save(&connection("43", "attacker-token", "B"))
        .await
        .expect("saved");

    raw::execute(
        &db,
        "UPDATE calendly_connections SET token_ciphertext = \
         (SELECT token_ciphertext FROM calendly_connections WHERE user_id = '42') \
         WHERE user_id = '43'",
    )
    .await;

    let error = repository
        .load(&user("43"))
        .await
        .expect_err("bound to user 42");
    assert!(matches!(error, RepositoryError::Undecryptable));
}

#[tokio::test]
async fn migrations_can_run_again() {
    let db = TestDatabase::create().await;
    let url = SecretString::from(db.url());
    let first = run_migrations(&url).await.expect("first run");
    assert!(!first.is_empty());
    let second = run_migrations(&url).await.expect("second run");
    assert!(second.is_empty());
}

#[tokio::test]
async fn an_unreachable_database_is_unavailable_quickly() {
    // Port 1 on loopback: nothing listens, so connecting is refused at once.
    let settings = pool_settings("postgres://postgres@127.0.0.1:1/none");
    let cipher = TokenCipher::from_base64("default", &key(7)).expect("key");
    let repository = PgTokenRepository::new(build_pool(&settings).expect("pool"), Arc::new(cipher));

    let started = Instant::now();
    let error = repository.load(&user("42")).await.expect_err("unreachable");
    assert!(
        matches!(error, RepositoryError::Unavailable(_)),
        "{error:?}"
    );
    assert!(matches!(
        repository.ping().await,
        Err(RepositoryError::Unavailable(_))
    ));
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn ping_succeeds_on_a_live_database() {
    let db = TestDatabase::create().await;
    repository(&db).await.ping().await.expect("answers");
}
