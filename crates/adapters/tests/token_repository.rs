//! The token repository, one suite for both backends: every test below runs on a real
//! PostgreSQL database and on a SQLite file, so the two cannot drift apart.

use std::sync::Arc;
use std::time::Duration;

use adapters::KeyRotation;
use async_trait::async_trait;
use base64::Engine as _;
use chrono::DateTime;
use domain::{
    CalendlyConnection, CalendlyCredential, CalendlyToken, CalendlyUser, CalendlyUserUri, HookId,
    HookSigning, OAuthStart, OAuthStarts, OAuthStateToken, PkceVerifier, RepositoryError, Scopes,
    SigningKey, Subscription, TokenRepository, UserId, WebhookChecks, Webhooks,
};
use secrecy::SecretString;

/// A backend under test: a fresh, empty database, and plain SQL beside the repository to see
/// and change what it stored.
#[async_trait]
trait Store: Send + Sync {
    /// A repository on this store, migrated, sealing with a key made of `key_byte`.
    async fn repository(&self, key_byte: u8) -> Arc<dyn TokenRepository> {
        self.keyed_repository(&[("default", key_byte)]).await
    }
    /// A repository on this store, migrated, with keys `(id, byte)`: the first seals.
    async fn keyed_repository(&self, keys: &[(&str, u8)]) -> Arc<dyn TokenRepository>;
    /// The OAuth starts on this store, migrated, sealing with a key made of `key_byte`.
    async fn starts(&self, key_byte: u8) -> Arc<dyn OAuthStarts>;
    /// When the connections' webhook subscriptions are looked at next.
    async fn checks(&self, key_byte: u8) -> Arc<dyn WebhookChecks>;
    /// Every stored OAuth start as text, binary columns in hex.
    async fn start_rows_as_text(&self) -> Vec<String>;
    /// `rotate_keys` with keys `(id, byte)`.
    async fn rotate(&self, keys: &[(&str, u8)]) -> KeyRotation;
    /// A repository whose database cannot be reached.
    fn unreachable_repository() -> Arc<dyn TokenRepository>
    where
        Self: Sized;
    /// Every stored row as text, binary columns in hex.
    async fn rows_as_text(&self) -> Vec<String>;
    async fn row_count(&self) -> i64;
    /// Copies the sealed token of `from` into the row of `to`, as an attacker with write
    /// access to the database would.
    async fn copy_sealed_token(&self, from: &str, to: &str);
}

fn key(byte: u8) -> SecretString {
    SecretString::from(base64::engine::general_purpose::STANDARD.encode([byte; 32]))
}

fn cipher(byte: u8) -> Arc<adapters::crypto::TokenCipher> {
    keyed_cipher(&[("default", byte)])
}

fn keyed_cipher(keys: &[(&str, u8)]) -> Arc<adapters::crypto::TokenCipher> {
    let keys: Vec<(String, SecretString)> = keys
        .iter()
        .map(|(id, byte)| ((*id).to_owned(), key(*byte)))
        .collect();
    Arc::new(adapters::crypto::TokenCipher::from_keys(&keys).expect("keys"))
}

const POOL_TIMEOUT: Duration = Duration::from_secs(2);
const QUERY_TIMEOUT: Duration = Duration::from_secs(5);

/// What the stores' plain SQL reads back.
#[derive(diesel::QueryableByName)]
struct RowText {
    #[diesel(sql_type = diesel::sql_types::Text)]
    row: String,
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    count: i64,
}

mod pg {
    use super::*;
    use adapters::postgres::{PgPoolSettings, PgTokenRepository, build_pool, run_migrations};
    use diesel::sql_types::Text;
    use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
    use test_support::TestDatabase;

    pub struct PgStore(TestDatabase);

    fn settings(url: &str) -> PgPoolSettings {
        PgPoolSettings {
            url: SecretString::from(url),
            max_size: 8,
            acquire_timeout: POOL_TIMEOUT,
            statement_timeout: QUERY_TIMEOUT,
        }
    }

    impl PgStore {
        pub async fn create() -> Self {
            Self(TestDatabase::create().await)
        }

        async fn concrete(&self, keys: &[(&str, u8)]) -> PgTokenRepository {
            let settings = settings(self.0.url());
            run_migrations(&settings.url)
                .await
                .expect("migrations apply");
            PgTokenRepository::new(
                build_pool(&settings).expect("pool"),
                keyed_cipher(keys),
                settings.statement_timeout,
            )
        }

        async fn sql(&self) -> AsyncPgConnection {
            AsyncPgConnection::establish(self.0.url())
                .await
                .expect("connects")
        }
    }

    #[async_trait]
    impl Store for PgStore {
        async fn keyed_repository(&self, keys: &[(&str, u8)]) -> Arc<dyn TokenRepository> {
            Arc::new(self.concrete(keys).await)
        }

        async fn rotate(&self, keys: &[(&str, u8)]) -> KeyRotation {
            self.concrete(keys)
                .await
                .rotate_keys()
                .await
                .expect("rotates")
        }

        async fn starts(&self, key_byte: u8) -> Arc<dyn OAuthStarts> {
            Arc::new(self.concrete(&[("default", key_byte)]).await)
        }

        async fn checks(&self, key_byte: u8) -> Arc<dyn WebhookChecks> {
            Arc::new(self.concrete(&[("default", key_byte)]).await)
        }

        async fn start_rows_as_text(&self) -> Vec<String> {
            let rows: Vec<RowText> =
                diesel::sql_query("SELECT t::text AS row FROM calendly_oauth_starts t")
                    .load(&mut self.sql().await)
                    .await
                    .expect("read");
            rows.into_iter().map(|r| r.row).collect()
        }

        fn unreachable_repository() -> Arc<dyn TokenRepository> {
            // Port 1 on loopback: nothing listens, so connecting is refused at once.
            let pool = build_pool(&settings("postgres://postgres@127.0.0.1:1/none")).expect("pool");
            Arc::new(PgTokenRepository::new(pool, cipher(7), QUERY_TIMEOUT))
        }

        async fn rows_as_text(&self) -> Vec<String> {
            let rows: Vec<RowText> =
                diesel::sql_query("SELECT t::text AS row FROM calendly_connections t")
                    .load(&mut self.sql().await)
                    .await
                    .expect("read");
            rows.into_iter().map(|r| r.row).collect()
        }

        async fn row_count(&self) -> i64 {
            let counts: Vec<Count> =
                diesel::sql_query("SELECT count(*) AS count FROM calendly_connections")
                    .load(&mut self.sql().await)
                    .await
                    .expect("counted");
            counts[0].count
        }

        async fn copy_sealed_token(&self, from: &str, to: &str) {
            diesel::sql_query(
                "UPDATE calendly_connections SET token_ciphertext = \
                 (SELECT token_ciphertext FROM calendly_connections WHERE user_id = $1) \
                 WHERE user_id = $2",
            )
            .bind::<Text, _>(from)
            .bind::<Text, _>(to)
            .execute(&mut self.sql().await)
            .await
            .expect("copied");
        }
    }

    /// A renewal may take as long as a call to the OAuth server: a lock is awaited for the lock
    /// wait, beyond the statement timeout that bounds every other query.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_lock_is_awaited_for_the_lock_wait_beyond_the_statement_timeout() {
        let store = PgStore::create().await;
        let short = PgPoolSettings {
            statement_timeout: Duration::from_millis(300),
            ..settings(store.0.url())
        };
        run_migrations(&short.url).await.expect("migrations apply");
        let repository = |lock_wait: Option<Duration>| {
            let repository = PgTokenRepository::new(
                build_pool(&short).expect("pool"),
                keyed_cipher(&[("default", 7)]),
                short.statement_timeout,
            );
            match lock_wait {
                Some(wait) => repository.with_lock_wait(wait),
                None => repository,
            }
        };
        let holder = repository(None);
        holder
            .save(&super::oauth_connection("42", "access-1", "refresh-1"))
            .await
            .expect("saved");
        let first = holder
            .lock_for_refresh(&super::user("42"))
            .await
            .expect("locked")
            .expect("a connection");

        let impatient = repository(None).lock_for_refresh(&super::user("42")).await;
        assert!(
            matches!(impatient, Err(RepositoryError::Unavailable(_))),
            "{:?}",
            impatient.map(|lease| lease.is_some())
        );

        let patient = repository(Some(Duration::from_secs(5)));
        let patient = tokio::spawn(async move {
            patient
                .lock_for_refresh(&super::user("42"))
                .await
                .map(|lease| lease.map(|lease| super::oauth_tokens(lease.connection()).1))
        });
        tokio::time::sleep(Duration::from_millis(900)).await;
        first
            .commit(super::renewed("access-2", "refresh-2"))
            .await
            .expect("committed");
        let seen = patient.await.expect("task").expect("waited for the lock");
        assert_eq!(seen.as_deref(), Some("refresh-2"));
    }
}

mod lite {
    use super::*;
    use adapters::sqlite::{SqlitePoolSettings, SqliteTokenRepository, build_pool, run_migrations};
    use diesel::sql_types::Text;
    use diesel::sqlite::SqliteConnection;
    use diesel::{Connection, RunQueryDsl};
    use test_support::TestSqliteFile;

    pub struct SqliteStore(TestSqliteFile);

    fn settings(path: &str) -> SqlitePoolSettings {
        SqlitePoolSettings {
            path: path.to_owned(),
            max_size: 8,
            acquire_timeout: POOL_TIMEOUT,
            busy_timeout: QUERY_TIMEOUT,
        }
    }

    impl SqliteStore {
        pub async fn create() -> Self {
            Self(TestSqliteFile::create())
        }

        async fn concrete(&self, keys: &[(&str, u8)]) -> SqliteTokenRepository {
            let settings = settings(self.0.path());
            run_migrations(&settings.path)
                .await
                .expect("migrations apply");
            SqliteTokenRepository::new(
                build_pool(&settings).expect("pool"),
                keyed_cipher(keys),
                QUERY_TIMEOUT,
            )
        }

        fn sql(&self) -> SqliteConnection {
            SqliteConnection::establish(self.0.path()).expect("opens")
        }
    }

    #[async_trait]
    impl Store for SqliteStore {
        async fn keyed_repository(&self, keys: &[(&str, u8)]) -> Arc<dyn TokenRepository> {
            Arc::new(self.concrete(keys).await)
        }

        async fn rotate(&self, keys: &[(&str, u8)]) -> KeyRotation {
            self.concrete(keys)
                .await
                .rotate_keys()
                .await
                .expect("rotates")
        }

        async fn starts(&self, key_byte: u8) -> Arc<dyn OAuthStarts> {
            Arc::new(self.concrete(&[("default", key_byte)]).await)
        }

        async fn checks(&self, key_byte: u8) -> Arc<dyn WebhookChecks> {
            Arc::new(self.concrete(&[("default", key_byte)]).await)
        }

        async fn start_rows_as_text(&self) -> Vec<String> {
            let rows: Vec<RowText> = diesel::sql_query(
                "SELECT state_hash || '|' || user_id || '|' || hex(verifier_ciphertext) || '|' || \
                 verifier_key_id || '|' || expires_at AS row FROM calendly_oauth_starts",
            )
            .load(&mut self.sql())
            .expect("read");
            rows.into_iter().map(|r| r.row).collect()
        }

        fn unreachable_repository() -> Arc<dyn TokenRepository> {
            // A file in a folder that does not exist and cannot be made.
            let pool = build_pool(&settings("/proc/no-such-folder/gateway.db")).expect("pool");
            Arc::new(SqliteTokenRepository::new(pool, cipher(7), QUERY_TIMEOUT))
        }

        async fn rows_as_text(&self) -> Vec<String> {
            let rows: Vec<RowText> = diesel::sql_query(
                "SELECT user_id || '|' || hex(token_ciphertext) || '|' || token_key_id || '|' || \
                 calendly_user_uri || '|' || name || '|' || email || '|' || scheduling_url || '|' || \
                 timezone || '|' || connected_at || '|' || updated_at AS row \
                 FROM calendly_connections",
            )
            .load(&mut self.sql())
            .expect("read");
            rows.into_iter().map(|r| r.row).collect()
        }

        async fn row_count(&self) -> i64 {
            let counts: Vec<Count> =
                diesel::sql_query("SELECT count(*) AS count FROM calendly_connections")
                    .load(&mut self.sql())
                    .expect("counted");
            counts[0].count
        }

        async fn copy_sealed_token(&self, from: &str, to: &str) {
            diesel::sql_query(
                "UPDATE calendly_connections SET token_ciphertext = \
                 (SELECT token_ciphertext FROM calendly_connections WHERE user_id = ?) \
                 WHERE user_id = ?",
            )
            .bind::<Text, _>(from)
            .bind::<Text, _>(to)
            .execute(&mut self.sql())
            .expect("copied");
        }
    }
}

/// Runs each named test on both backends: `postgres::NAME` and `sqlite::NAME`.
macro_rules! on_every_backend {
    ($($test:ident),* $(,)?) => {
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    super::$test(super::pg::PgStore::create().await).await;
                }
            )*
        }
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    super::$test(super::lite::SqliteStore::create().await).await;
                }
            )*
        }
    };
}

on_every_backend!(
    a_saved_connection_loads_back_whole,
    an_unknown_user_has_no_connection,
    saving_again_replaces_the_earlier_connection,
    delete_removes_only_that_users_connection,
    concurrent_saves_for_one_user_leave_exactly_one_whole_connection,
    concurrent_saves_for_many_users_all_succeed,
    the_database_never_holds_a_token_in_plain_text,
    a_token_sealed_with_another_key_is_undecryptable,
    a_sealed_token_copied_to_another_user_does_not_open,
    an_unreachable_database_is_unavailable,
    ping_succeeds_on_a_live_database,
    rotating_keys_reseals_every_token_with_the_current_key,
    an_oauth_connection_loads_back_with_both_tokens_and_the_expiry,
    a_spent_refresh_token_is_stored_as_none,
    replacing_an_oauth_connection_with_a_token_leaves_no_refresh_token,
    rotating_keys_reseals_refresh_tokens_too,
    a_connection_locked_for_refresh_takes_the_committed_credential,
    a_dropped_lease_changes_nothing_and_releases_the_lock,
    a_second_lock_waits_for_the_first_and_sees_its_renewal,
    no_connection_no_lease,
    an_oauth_start_is_taken_once,
    an_unknown_or_expired_oauth_start_is_none,
    of_concurrent_takes_of_one_start_one_gets_it,
    the_database_keeps_neither_the_state_nor_the_verifier,
    a_start_sealed_with_another_key_is_undecryptable,
    a_subscribed_connection_loads_back_and_is_found_by_its_hook,
    replacing_or_deleting_a_connection_ends_its_hook,
    rotating_keys_reseals_webhook_keys_too,
    an_application_signed_disabled_subscription_and_scopes_load_back,
    setting_webhooks_changes_only_them_and_only_while_the_subscription_is_expected,
    of_instances_claiming_at_once_each_due_check_goes_to_one,
);

fn connection(user: &str, token: &str, calendly_user: &str) -> CalendlyConnection {
    CalendlyConnection {
        user_id: UserId::parse(user).expect("user id"),
        credential: CalendlyCredential::PersonalAccessToken(
            CalendlyToken::parse(token).expect("token"),
        ),
        calendly_user: CalendlyUser {
            uri: CalendlyUserUri::parse(format!("https://api.calendly.com/users/{calendly_user}"))
                .expect("uri"),
            name: format!("Name of {calendly_user}"),
            email: format!("{calendly_user}@example.com"),
            scheduling_url: format!("https://calendly.com/{calendly_user}"),
            timezone: "Europe/Berlin".into(),
            organization: Some(format!(
                "https://api.calendly.com/organizations/{calendly_user}"
            )),
        },
        connected_at: DateTime::parse_from_rfc3339("2030-01-01T12:34:56.123456Z")
            .expect("time")
            .to_utc(),
        webhooks: Webhooks::Off,
        scopes: None,
    }
}

fn user(id: &str) -> UserId {
    UserId::parse(id).expect("user id")
}

async fn a_saved_connection_loads_back_whole(store: impl Store) {
    let repository = store.repository(7).await;
    let saved = connection("42", "pat-secret-1", "AAAA");

    repository.save(&saved).await.expect("saved");
    let loaded = repository
        .load(&user("42"))
        .await
        .expect("loaded")
        .expect("present");

    assert_eq!(loaded.user_id, saved.user_id);
    assert_eq!(loaded.credential.access_token().expose(), "pat-secret-1");
    assert_eq!(loaded.calendly_user, saved.calendly_user);
    assert_eq!(loaded.connected_at, saved.connected_at);
}

async fn an_unknown_user_has_no_connection(store: impl Store) {
    let repository = store.repository(7).await;
    assert!(
        repository
            .load(&user("nobody"))
            .await
            .expect("loaded")
            .is_none()
    );
}

async fn saving_again_replaces_the_earlier_connection(store: impl Store) {
    let repository = store.repository(7).await;
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
    assert_eq!(loaded.credential.access_token().expose(), "new-token");
    assert_eq!(
        loaded.calendly_user.uri.as_str(),
        "https://api.calendly.com/users/NEW"
    );
    let other = repository
        .load(&user("43"))
        .await
        .expect("loaded")
        .expect("present");
    assert_eq!(other.credential.access_token().expose(), "other-token");
    assert_eq!(store.row_count().await, 2);
}

async fn delete_removes_only_that_users_connection(store: impl Store) {
    let repository = store.repository(7).await;
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

async fn concurrent_saves_for_one_user_leave_exactly_one_whole_connection(store: impl Store) {
    let repository = store.repository(7).await;
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
    let i = loaded
        .credential
        .access_token()
        .expose()
        .trim_start_matches("token-");
    assert_eq!(
        loaded.calendly_user.uri.as_str(),
        format!("https://api.calendly.com/users/U{i}")
    );
    assert_eq!(store.row_count().await, 1);
}

async fn concurrent_saves_for_many_users_all_succeed(store: impl Store) {
    let repository = store.repository(7).await;
    let saves = (0..64).map(|i| {
        let repository = Arc::clone(&repository);
        tokio::spawn(async move {
            repository
                .save(&connection(
                    &format!("user-{i}"),
                    &format!("token-{i}"),
                    &format!("U{i}"),
                ))
                .await
        })
    });
    for save in futures::future::join_all(saves).await {
        save.expect("task")
            .expect("saved, never 'database is locked'");
    }
    assert_eq!(store.row_count().await, 64);
}

async fn the_database_never_holds_a_token_in_plain_text(store: impl Store) {
    let repository = store.repository(7).await;
    let token = "eyJraWQiOiIxY2UxZTEzNjE3ZGNmNzY2YjNjZWJjY2Y4ZGM1YmFmYThhNjVlNjg0";
    repository
        .save(&connection("42", token, "AAAA"))
        .await
        .expect("saved");

    let rows = store.rows_as_text().await;
    assert_eq!(rows.len(), 1);
    let token_hex: String = token.bytes().map(|b| format!("{b:02x}")).collect();
    for row in &rows {
        assert!(!row.contains(token), "plain token stored: {row}");
        assert!(
            !row.to_lowercase().contains(&token_hex),
            "token stored as bytes: {row}"
        );
        assert!(row.contains("https://api.calendly.com/users/AAAA"), "{row}");
    }
}

async fn a_token_sealed_with_another_key_is_undecryptable(store: impl Store) {
    store
        .repository(7)
        .await
        .save(&connection("42", "pat", "A"))
        .await
        .expect("saved");

    let error = store
        .repository(8)
        .await
        .load(&user("42"))
        .await
        .expect_err("other key");
    assert!(matches!(error, RepositoryError::Undecryptable));
}

async fn a_sealed_token_copied_to_another_user_does_not_open(store: impl Store) {
    let repository = store.repository(7).await;
    repository
        .save(&connection("42", "victim-token", "A"))
        .await
        .expect("saved");
    repository
        .save(&connection("43", "attacker-token", "B"))
        .await
        .expect("saved");

    store.copy_sealed_token("42", "43").await;

    let error = repository
        .load(&user("43"))
        .await
        .expect_err("bound to user 42");
    assert!(matches!(error, RepositoryError::Undecryptable));
    assert_eq!(
        repository
            .load(&user("42"))
            .await
            .expect("loaded")
            .expect("present")
            .credential
            .access_token()
            .expose(),
        "victim-token"
    );
}

async fn an_unreachable_database_is_unavailable<S: Store>(_store: S) {
    let repository = S::unreachable_repository();
    let error = repository.load(&user("42")).await.expect_err("unreachable");
    assert!(
        matches!(error, RepositoryError::Unavailable(_)),
        "{error:?}"
    );
    assert!(matches!(
        repository.ping().await,
        Err(RepositoryError::Unavailable(_))
    ));
    assert!(matches!(
        repository.save(&connection("42", "t", "A")).await,
        Err(RepositoryError::Unavailable(_))
    ));
}

async fn ping_succeeds_on_a_live_database(store: impl Store) {
    store.repository(7).await.ping().await.expect("answers");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_migrations_can_run_again() {
    let db = test_support::TestDatabase::create().await;
    let url = SecretString::from(db.url());
    assert!(
        !adapters::postgres::run_migrations(&url)
            .await
            .expect("first run")
            .is_empty()
    );
    assert!(
        adapters::postgres::run_migrations(&url)
            .await
            .expect("second run")
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_migrations_create_the_file_and_its_folder_and_can_run_again() {
    let file = test_support::TestSqliteFile::create();
    let nested = format!("{}.d/deeper/gateway.db", file.path());
    assert!(
        !adapters::sqlite::run_migrations(&nested)
            .await
            .expect("first run")
            .is_empty()
    );
    assert!(std::path::Path::new(&nested).exists());
    assert!(
        adapters::sqlite::run_migrations(&nested)
            .await
            .expect("second run")
            .is_empty()
    );
    let _ = std::fs::remove_dir_all(format!("{}.d", file.path()));
}

#[test]
fn both_backends_have_the_same_migrations() {
    let names = |backend: &str| {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../migrations")
            .join(backend);
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|entry| {
                entry
                    .expect("entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .filter(|name| !name.starts_with('.'))
            .collect();
        names.sort();
        names
    };
    assert_eq!(names("postgres"), names("sqlite"));
}

async fn rotating_keys_reseals_every_token_with_the_current_key(store: impl Store) {
    let old = store.repository(7).await;
    // More users than one batch of the rotation.
    let users: Vec<String> = (1..=205).map(|n| format!("user-{n:03}")).collect();
    for user_id in &users {
        old.save(&connection(user_id, &format!("pat-of-{user_id}"), "A"))
            .await
            .expect("saved");
    }
    // One row an attacker tampered with: it opens under no key.
    store.copy_sealed_token("user-001", "user-002").await;

    let keys = [("2026-11", 9), ("default", 7)];
    let done = store.rotate(&keys).await;
    assert_eq!(
        done,
        KeyRotation {
            rotated: 204,
            undecryptable: 1,
            changed_meanwhile: 0
        }
    );

    // The new key alone opens every rotated token.
    let new_only = store.keyed_repository(&[("2026-11", 9)]).await;
    for user_id in ["user-001", "user-150", "user-205"] {
        let loaded = new_only
            .load(&user(user_id))
            .await
            .expect("opens with the new key")
            .expect("stored");
        assert_eq!(
            loaded.credential.access_token().expose(),
            format!("pat-of-{user_id}")
        );
    }
    let error = new_only
        .load(&user("user-002"))
        .await
        .expect_err("still tampered");
    assert!(matches!(error, RepositoryError::Undecryptable));

    let again = store.rotate(&keys).await;
    assert_eq!((again.rotated, again.undecryptable), (0, 1));
}

// --- OAuth starts --------------------------------------------------------------------------

fn state(text: &str) -> OAuthStateToken {
    OAuthStateToken::parse(text).expect("state")
}

fn start(user_id: &str, verifier: &str, lives: chrono::TimeDelta) -> OAuthStart {
    OAuthStart {
        user_id: user(user_id),
        verifier: PkceVerifier::parse(verifier).expect("verifier"),
        expires_at: chrono::Utc::now() + lives,
    }
}

const TEN_MINUTES: chrono::TimeDelta = chrono::TimeDelta::minutes(10);

async fn an_oauth_start_is_taken_once(store: impl Store) {
    let starts = store.starts(7).await;
    starts
        .save_start(
            &state("state-1"),
            &start("42", "verifier-of-42", TEN_MINUTES),
        )
        .await
        .expect("saved");
    starts
        .save_start(
            &state("state-2"),
            &start("43", "verifier-of-43", TEN_MINUTES),
        )
        .await
        .expect("saved");

    let now = chrono::Utc::now();
    let taken = starts
        .take_start(&state("state-1"), now)
        .await
        .expect("read")
        .expect("kept");
    assert_eq!(
        (taken.user_id.as_str(), taken.verifier.expose()),
        ("42", "verifier-of-42")
    );
    assert!(
        starts
            .take_start(&state("state-1"), now)
            .await
            .expect("read")
            .is_none(),
        "single use"
    );
    let other = starts
        .take_start(&state("state-2"), now)
        .await
        .expect("read")
        .expect("kept");
    assert_eq!(other.user_id.as_str(), "43");
}

async fn an_unknown_or_expired_oauth_start_is_none(store: impl Store) {
    let starts = store.starts(7).await;
    let now = chrono::Utc::now();
    assert!(
        starts
            .take_start(&state("never-saved"), now)
            .await
            .expect("read")
            .is_none()
    );
    starts
        .save_start(&state("short"), &start("42", "verifier", TEN_MINUTES))
        .await
        .expect("saved");
    let later = now + TEN_MINUTES + chrono::TimeDelta::seconds(1);
    assert!(
        starts
            .take_start(&state("short"), later)
            .await
            .expect("read")
            .is_none(),
        "expired"
    );
    assert!(
        starts
            .take_start(&state("short"), now)
            .await
            .expect("read")
            .is_none(),
        "an expired start is gone too"
    );
    // Saving forgets starts already expired.
    starts
        .save_start(
            &state("old"),
            &start("42", "verifier", -chrono::TimeDelta::seconds(1)),
        )
        .await
        .expect("saved");
    starts
        .save_start(&state("new"), &start("42", "verifier", TEN_MINUTES))
        .await
        .expect("saved");
    assert_eq!(store.start_rows_as_text().await.len(), 1);
}

async fn of_concurrent_takes_of_one_start_one_gets_it(store: impl Store) {
    let starts = store.starts(7).await;
    starts
        .save_start(&state("contested"), &start("42", "verifier", TEN_MINUTES))
        .await
        .expect("saved");
    let now = chrono::Utc::now();
    let takes = (0..8).map(|_| {
        let starts = Arc::clone(&starts);
        tokio::spawn(async move { starts.take_start(&state("contested"), now).await })
    });
    let mut got = 0;
    for take in futures::future::join_all(takes).await {
        if take.expect("task").expect("read").is_some() {
            got += 1;
        }
    }
    assert_eq!(got, 1);
}

async fn the_database_keeps_neither_the_state_nor_the_verifier(store: impl Store) {
    let starts = store.starts(7).await;
    starts
        .save_start(
            &state("a-secret-state-value"),
            &start("42", "a-secret-verifier-value", TEN_MINUTES),
        )
        .await
        .expect("saved");
    let rows = store.start_rows_as_text().await;
    assert_eq!(rows.len(), 1);
    for secret in ["a-secret-state-value", "a-secret-verifier-value"] {
        assert!(!rows[0].contains(secret), "{}", rows[0]);
        let hex: String = secret.bytes().map(|b| format!("{b:02x}")).collect();
        assert!(!rows[0].to_lowercase().contains(&hex), "{}", rows[0]);
    }
}

async fn a_start_sealed_with_another_key_is_undecryptable(store: impl Store) {
    store
        .starts(7)
        .await
        .save_start(&state("s"), &start("42", "verifier", TEN_MINUTES))
        .await
        .expect("saved");
    let error = store
        .starts(8)
        .await
        .take_start(&state("s"), chrono::Utc::now())
        .await
        .expect_err("another key");
    assert!(matches!(error, RepositoryError::Undecryptable), "{error:?}");
}

// --- OAuth connections ---------------------------------------------------------------------

fn oauth_connection(user: &str, access: &str, refresh: &str) -> CalendlyConnection {
    CalendlyConnection {
        credential: CalendlyCredential::OAuth {
            access_token: CalendlyToken::parse(access).expect("token"),
            refresh_token: Some(CalendlyToken::parse(refresh).expect("token")),
            issued_at: DateTime::parse_from_rfc3339("2030-01-01T12:34:56.5Z")
                .expect("time")
                .to_utc(),
            expires_at: DateTime::parse_from_rfc3339("2030-01-01T14:34:56.123456Z")
                .expect("time")
                .to_utc(),
        },
        ..connection(user, "unused", "OAUTH")
    }
}

/// The access token, the refresh token (`-` when spent), when issued and until when.
fn oauth_tokens(connection: &CalendlyConnection) -> (String, String, String) {
    match &connection.credential {
        CalendlyCredential::OAuth {
            access_token,
            refresh_token,
            issued_at,
            expires_at,
        } => (
            access_token.expose().to_owned(),
            refresh_token
                .as_ref()
                .map_or("-", |token| token.expose())
                .to_owned(),
            format!("{} to {}", issued_at.to_rfc3339(), expires_at.to_rfc3339()),
        ),
        other => panic!("not OAuth: {other:?}"),
    }
}

async fn an_oauth_connection_loads_back_with_both_tokens_and_the_expiry(store: impl Store) {
    let repository = store.repository(7).await;
    repository
        .save(&oauth_connection(
            "42",
            "access-secret-1",
            "refresh-secret-1",
        ))
        .await
        .expect("saved");
    let loaded = repository
        .load(&user("42"))
        .await
        .expect("loaded")
        .expect("present");
    assert_eq!(
        oauth_tokens(&loaded),
        (
            "access-secret-1".into(),
            "refresh-secret-1".into(),
            "2030-01-01T12:34:56.500+00:00 to 2030-01-01T14:34:56.123456+00:00".into()
        )
    );
    assert_eq!(loaded.credential.method().as_str(), "oauth");
    let rows = store.rows_as_text().await;
    for secret in ["access-secret-1", "refresh-secret-1"] {
        assert!(!rows[0].contains(secret), "{}", rows[0]);
        let hex: String = secret.bytes().map(|b| format!("{b:02x}")).collect();
        assert!(!rows[0].to_lowercase().contains(&hex), "{}", rows[0]);
    }
}

async fn a_spent_refresh_token_is_stored_as_none(store: impl Store) {
    let repository = store.repository(7).await;
    let spent = oauth_connection("42", "access-1", "refresh-1");
    let spent = CalendlyConnection {
        credential: spent.credential.without_refresh_token(),
        ..spent
    };
    repository.save(&spent).await.expect("saved");
    let loaded = repository
        .load(&user("42"))
        .await
        .expect("loaded")
        .expect("present");
    assert_eq!(oauth_tokens(&loaded).1, "-");
    assert_eq!(oauth_tokens(&loaded).0, "access-1");
}

async fn replacing_an_oauth_connection_with_a_token_leaves_no_refresh_token(store: impl Store) {
    let repository = store.repository(7).await;
    repository
        .save(&oauth_connection("42", "access", "refresh-secret"))
        .await
        .expect("saved");
    repository
        .save(&connection("42", "a-personal-token", "AAAA"))
        .await
        .expect("replaced");
    let loaded = repository
        .load(&user("42"))
        .await
        .expect("loaded")
        .expect("present");
    assert!(
        matches!(&loaded.credential, CalendlyCredential::PersonalAccessToken(t) if t.expose() == "a-personal-token"),
        "{:?}",
        loaded.credential
    );
}

async fn rotating_keys_reseals_refresh_tokens_too(store: impl Store) {
    store
        .repository(7)
        .await
        .save(&oauth_connection("42", "access-1", "refresh-1"))
        .await
        .expect("saved");
    let done = store.rotate(&[("2026-11", 9), ("default", 7)]).await;
    assert_eq!(done.rotated, 1);
    let loaded = store
        .keyed_repository(&[("2026-11", 9)])
        .await
        .load(&user("42"))
        .await
        .expect("the new key alone opens both")
        .expect("present");
    assert_eq!(
        (oauth_tokens(&loaded).0, oauth_tokens(&loaded).1),
        ("access-1".into(), "refresh-1".into())
    );
}

// --- renewing a credential under a lock ----------------------------------------------------

fn renewed(access: &str, refresh: &str) -> CalendlyCredential {
    CalendlyCredential::OAuth {
        access_token: CalendlyToken::parse(access).expect("token"),
        refresh_token: Some(CalendlyToken::parse(refresh).expect("token")),
        issued_at: DateTime::parse_from_rfc3339("2030-01-01T14:00:00Z")
            .expect("time")
            .to_utc(),
        expires_at: DateTime::parse_from_rfc3339("2030-01-01T16:00:00Z")
            .expect("time")
            .to_utc(),
    }
}

async fn a_connection_locked_for_refresh_takes_the_committed_credential(store: impl Store) {
    let repository = store.repository(7).await;
    repository
        .save(&oauth_connection("42", "access-1", "refresh-1"))
        .await
        .expect("saved");
    let lease = repository
        .lock_for_refresh(&user("42"))
        .await
        .expect("locked")
        .expect("a connection");
    assert_eq!(oauth_tokens(lease.connection()).1, "refresh-1");
    let committed = lease
        .commit(renewed("access-2", "refresh-2"))
        .await
        .expect("committed");
    assert_eq!(oauth_tokens(&committed).0, "access-2");
    let loaded = repository
        .load(&user("42"))
        .await
        .expect("loaded")
        .expect("present");
    assert_eq!(
        oauth_tokens(&loaded),
        (
            "access-2".into(),
            "refresh-2".into(),
            "2030-01-01T14:00:00+00:00 to 2030-01-01T16:00:00+00:00".into()
        )
    );
    assert_eq!(loaded.calendly_user, committed.calendly_user);
}

async fn a_dropped_lease_changes_nothing_and_releases_the_lock(store: impl Store) {
    let repository = store.repository(7).await;
    repository
        .save(&oauth_connection("42", "access-1", "refresh-1"))
        .await
        .expect("saved");
    let lease = repository
        .lock_for_refresh(&user("42"))
        .await
        .expect("locked")
        .expect("a connection");
    drop(lease);
    let again = repository
        .lock_for_refresh(&user("42"))
        .await
        .expect("locked again")
        .expect("a connection");
    assert_eq!(oauth_tokens(again.connection()).1, "refresh-1");
    drop(again);
    let loaded = repository
        .load(&user("42"))
        .await
        .expect("loaded")
        .expect("present");
    assert_eq!(oauth_tokens(&loaded).1, "refresh-1");
}

async fn a_second_lock_waits_for_the_first_and_sees_its_renewal(store: impl Store) {
    let repository = store.repository(7).await;
    repository
        .save(&oauth_connection("42", "access-1", "refresh-1"))
        .await
        .expect("saved");
    let first = repository
        .lock_for_refresh(&user("42"))
        .await
        .expect("locked")
        .expect("a connection");
    let waiting = {
        let repository = Arc::clone(&repository);
        tokio::spawn(async move {
            let lease = repository
                .lock_for_refresh(&user("42"))
                .await
                .expect("locked")
                .expect("a connection");
            oauth_tokens(lease.connection()).1
        })
    };
    // However long this takes, the second lock cannot be had while the first is held.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!waiting.is_finished(), "the second lock did not wait");
    first
        .commit(renewed("access-2", "refresh-2"))
        .await
        .expect("committed");
    assert_eq!(waiting.await.expect("task"), "refresh-2");
}

async fn no_connection_no_lease(store: impl Store) {
    let repository = store.repository(7).await;
    assert!(
        repository
            .lock_for_refresh(&user("nobody"))
            .await
            .expect("read")
            .is_none()
    );
    // The lock of a connection that does not exist is not kept: another user's lock works.
    repository
        .save(&oauth_connection("42", "access-1", "refresh-1"))
        .await
        .expect("saved");
    assert!(
        repository
            .lock_for_refresh(&user("42"))
            .await
            .expect("locked")
            .is_some()
    );
}

// --- webhook subscriptions -------------------------------------------------------------------

const SIGNING_KEY: &str = "webhook-signing-key-never-in-clear";

fn subscribed(user: &str, hook: &str) -> CalendlyConnection {
    CalendlyConnection {
        webhooks: Webhooks::Active(Subscription {
            hook_id: HookId::parse(hook).expect("hook id"),
            signing: HookSigning::Own(SigningKey::new(SIGNING_KEY)),
            uri: format!("https://api.calendly.com/webhook_subscriptions/{hook}"),
        }),
        ..connection(user, &format!("token-of-{user}"), &format!("CAL{user}"))
    }
}

fn hook(id: &str) -> HookId {
    HookId::parse(id).expect("hook id")
}

async fn a_subscribed_connection_loads_back_and_is_found_by_its_hook(store: impl Store) {
    let repository = store.repository(7).await;
    repository
        .save(&subscribed("42", "hook-of-user-42-xyz"))
        .await
        .expect("saved");
    repository
        .save(&connection("43", "t", "CAL43"))
        .await
        .expect("saved");
    let loaded = repository
        .load(&user("42"))
        .await
        .expect("loads")
        .expect("present");
    assert_eq!(
        loaded.webhooks,
        subscribed("42", "hook-of-user-42-xyz").webhooks
    );
    assert_eq!(
        loaded.calendly_user.organization.as_deref(),
        Some("https://api.calendly.com/organizations/CAL42")
    );
    let found = repository
        .find_hook(&hook("hook-of-user-42-xyz"))
        .await
        .expect("found")
        .expect("present");
    assert_eq!(found.user_id, user("42"));
    assert_eq!(
        found.account.as_str(),
        "https://api.calendly.com/users/CAL42"
    );
    assert_eq!(
        found.signing,
        HookSigning::Own(SigningKey::new(SIGNING_KEY))
    );
    assert!(
        repository
            .find_hook(&hook("hook-of-nobody-000000"))
            .await
            .expect("asked")
            .is_none()
    );
    let unsubscribed = repository
        .load(&user("43"))
        .await
        .expect("loads")
        .expect("present");
    assert_eq!(unsubscribed.webhooks, Webhooks::Off);
    for row in store.rows_as_text().await {
        assert!(!row.contains(SIGNING_KEY), "{row}");
        assert!(!row.contains(&hex_of(SIGNING_KEY)), "{row}");
    }
}

/// A connection whose subscription Calendly signs with the OAuth application's key.
fn application_signed(hook: &str) -> Subscription {
    Subscription {
        hook_id: HookId::parse(hook).expect("hook id"),
        signing: HookSigning::Application,
        uri: format!("https://api.calendly.com/webhook_subscriptions/{hook}"),
    }
}

async fn an_application_signed_disabled_subscription_and_scopes_load_back(store: impl Store) {
    let repository = store.repository(7).await;
    let saved = CalendlyConnection {
        webhooks: Webhooks::Disabled(application_signed("hook-signed-by-the-app")),
        scopes: Some(Scopes::parse("users:read event_types:read")),
        ..connection("42", "t", "CAL42")
    };
    repository.save(&saved).await.expect("saved");
    let loaded = repository
        .load(&user("42"))
        .await
        .expect("loads")
        .expect("present");
    assert_eq!(loaded.webhooks, saved.webhooks);
    assert_eq!(loaded.webhooks.status(), "disabled");
    assert_eq!(loaded.scopes, saved.scopes);
    let found = repository
        .find_hook(&hook("hook-signed-by-the-app"))
        .await
        .expect("found")
        .expect("a disabled subscription's deliveries are still taken");
    assert_eq!(found.signing, HookSigning::Application);
}

async fn setting_webhooks_changes_only_them_and_only_while_the_subscription_is_expected(
    store: impl Store,
) {
    let repository = store.repository(7).await;
    repository
        .save(&subscribed("42", "hook-of-user-42-one"))
        .await
        .expect("saved");
    let remade = Webhooks::Active(application_signed("hook-of-user-42-two"));
    let stale = repository
        .set_webhooks(&user("42"), Some(&hook("hook-of-someone-else")), &remade)
        .await
        .expect("asked");
    assert!(
        !stale,
        "another subscription than the one expected is left alone"
    );
    let set = repository
        .set_webhooks(&user("42"), Some(&hook("hook-of-user-42-one")), &remade)
        .await
        .expect("set");
    assert!(set);
    let loaded = repository
        .load(&user("42"))
        .await
        .expect("loads")
        .expect("present");
    assert_eq!(loaded.webhooks, remade);
    assert_eq!(loaded.credential.access_token().expose(), "token-of-42");
    assert!(
        repository
            .find_hook(&hook("hook-of-user-42-one"))
            .await
            .expect("asked")
            .is_none()
    );
    let own = Webhooks::Active(Subscription {
        hook_id: hook("hook-of-user-42-three"),
        signing: HookSigning::Own(SigningKey::new(SIGNING_KEY)),
        uri: "https://api.calendly.com/webhook_subscriptions/three".into(),
    });
    assert!(
        repository
            .set_webhooks(&user("42"), Some(&hook("hook-of-user-42-two")), &own)
            .await
            .expect("set")
    );
    let found = repository
        .find_hook(&hook("hook-of-user-42-three"))
        .await
        .expect("found")
        .expect("present");
    assert_eq!(
        found.signing,
        HookSigning::Own(SigningKey::new(SIGNING_KEY))
    );
    assert!(
        !repository
            .set_webhooks(&user("nobody"), None, &Webhooks::Unavailable)
            .await
            .expect("asked"),
        "no connection, nothing set"
    );
    for row in store.rows_as_text().await {
        assert!(!row.contains(SIGNING_KEY), "{row}");
    }
}

async fn of_instances_claiming_at_once_each_due_check_goes_to_one(store: impl Store) {
    let repository = store.repository(7).await;
    for n in 0..5 {
        repository
            .save(&connection(&n.to_string(), "t", &format!("CAL{n}")))
            .await
            .expect("saved");
    }
    let (one, other) = (store.checks(7).await, store.checks(7).await);
    assert_eq!(one.watched().await.expect("counted"), 5);
    let now = DateTime::parse_from_rfc3339("2030-01-01T00:00:00Z")
        .expect("time")
        .to_utc();
    let next = now + chrono::TimeDelta::hours(1);
    let (a, b) = tokio::join!(one.claim_due(now, next, 3), other.claim_due(now, next, 3));
    let (a, b) = (a.expect("claimed"), b.expect("claimed"));
    assert!(a.len() <= 3 && b.len() <= 3);
    let mut all: Vec<String> = a.iter().chain(&b).map(|u| u.as_str().to_owned()).collect();
    all.sort();
    let before = all.len();
    all.dedup();
    assert_eq!(all.len(), before, "claimed twice: {a:?} {b:?}");
    // What neither took is taken next, and nothing twice within the interval.
    let rest = one.claim_due(now, next, 5).await.expect("claimed");
    assert_eq!(all.len() + rest.len(), 5, "{all:?} then {rest:?}");
    assert!(one.claim_due(now, next, 5).await.expect("asked").is_empty());
    let later = one
        .claim_due(next, next + chrono::TimeDelta::hours(1), 5)
        .await
        .expect("claimed");
    assert_eq!(later.len(), 5, "due again after the interval");
}

fn hex_of(text: &str) -> String {
    text.bytes().map(|b| format!("{b:02x}")).collect()
}

async fn replacing_or_deleting_a_connection_ends_its_hook(store: impl Store) {
    let repository = store.repository(7).await;
    repository
        .save(&subscribed("42", "hook-of-the-first-one"))
        .await
        .expect("saved");
    repository
        .save(&CalendlyConnection {
            webhooks: Webhooks::Unavailable,
            ..connection("42", "new-token", "CAL42")
        })
        .await
        .expect("replaced");
    assert!(
        repository
            .find_hook(&hook("hook-of-the-first-one"))
            .await
            .expect("asked")
            .is_none()
    );
    let loaded = repository
        .load(&user("42"))
        .await
        .expect("loads")
        .expect("present");
    assert_eq!(loaded.webhooks, Webhooks::Unavailable);
    repository
        .save(&subscribed("42", "hook-of-the-second-one"))
        .await
        .expect("subscribed again");
    repository.delete(&user("42")).await.expect("deleted");
    assert!(
        repository
            .find_hook(&hook("hook-of-the-second-one"))
            .await
            .expect("asked")
            .is_none()
    );
}

async fn rotating_keys_reseals_webhook_keys_too(store: impl Store) {
    store
        .repository(7)
        .await
        .save(&subscribed("42", "hook-of-user-42-xyz"))
        .await
        .expect("saved");
    let done = store.rotate(&[("2026-11", 9), ("default", 7)]).await;
    assert_eq!(done.rotated, 1);
    let rotated = store.keyed_repository(&[("2026-11", 9)]).await;
    let found = rotated
        .find_hook(&hook("hook-of-user-42-xyz"))
        .await
        .expect("the new key alone opens it")
        .expect("present");
    assert_eq!(
        found.signing,
        HookSigning::Own(SigningKey::new(SIGNING_KEY))
    );
    let loaded = rotated
        .load(&user("42"))
        .await
        .expect("loads")
        .expect("present");
    assert_eq!(
        loaded.webhooks,
        subscribed("42", "hook-of-user-42-xyz").webhooks
    );
}
