//! Connections kept in memory by two "instances" on one PostgreSQL, forgotten through the
//! database's notices: a change through one, or by plain SQL, is seen by the other within a
//! second, also when the listener's connection is killed.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use adapters::cache::{CacheKind, CacheObserver};
use adapters::connections::{ConnectionCache, HEARTBEAT, LISTENER_NAME};
use adapters::postgres::{PgPoolSettings, PgTokenRepository, build_pool, run_migrations};
use base64::Engine as _;
use chrono::DateTime;
use domain::{
    CalendlyConnection, CalendlyCredential, CalendlyToken, CalendlyUser, CalendlyUserUri,
    TokenRepository, UserId, Webhooks,
};
use secrecy::SecretString;
use test_support::TestDatabase;

#[derive(Debug, Default)]
struct Reads {
    memory: AtomicUsize,
    database: AtomicUsize,
}

impl CacheObserver for Reads {
    fn looked_up(&self, kind: CacheKind, hit: bool) {
        assert_eq!(kind, CacheKind::Connections);
        let counter = if hit { &self.memory } else { &self.database };
        counter.fetch_add(1, Ordering::SeqCst);
    }
}

struct Instance {
    tokens: Arc<dyn TokenRepository>,
    cache: Arc<ConnectionCache>,
    reads: Arc<Reads>,
    _listener: tokio::task::JoinHandle<()>,
}

async fn instance(url: &str) -> Instance {
    let settings = PgPoolSettings {
        url: SecretString::from(url),
        max_size: 4,
        acquire_timeout: Duration::from_secs(2),
        statement_timeout: Duration::from_secs(5),
    };
    run_migrations(&settings.url).await.expect("migrations");
    let key = SecretString::from(base64::engine::general_purpose::STANDARD.encode([7u8; 32]));
    let cipher =
        adapters::crypto::TokenCipher::from_keys(&[("default".to_owned(), key)]).expect("keys");
    let repository = PgTokenRepository::new(
        build_pool(&settings).expect("pool"),
        Arc::new(cipher),
        settings.statement_timeout,
    );
    let reads = Arc::new(Reads::default());
    let cache = ConnectionCache::new(1000, Some(Arc::clone(&reads) as Arc<dyn CacheObserver>));
    let listener = cache.listen(settings.url.clone());
    Instance {
        tokens: Arc::new(cache.wrap(Arc::new(repository))),
        cache,
        reads,
        _listener: listener,
    }
}

/// `N` instances on the database at `url`, each listening already.
async fn listening<const N: usize>(url: &str) -> [Instance; N] {
    let mut instances = Vec::new();
    for _ in 0..N {
        let each = instance(url).await;
        until("listening", Duration::from_secs(5), async || {
            each.cache.is_listening()
        })
        .await;
        instances.push(each);
    }
    match instances.try_into() {
        Ok(instances) => instances,
        Err(_) => panic!("{N} instances"),
    }
}

/// Saves `user`'s connection with `token` through `instance`, then waits for the notice of
/// the save itself, which forgets what any instance read before it.
async fn saved(instance: &Instance, user: &str, token: &str) {
    instance
        .tokens
        .save(&connection(user, token))
        .await
        .expect("save");
    tokio::time::sleep(HEARTBEAT * 2).await;
}

async fn until(what: &str, within: Duration, check: impl AsyncFn() -> bool) -> Duration {
    let started = Instant::now();
    while !check().await {
        assert!(started.elapsed() < within, "{what}: not within {within:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    started.elapsed()
}

fn connection(user: &str, token: &str) -> CalendlyConnection {
    CalendlyConnection {
        user_id: UserId::parse(user).expect("user id"),
        credential: CalendlyCredential::PersonalAccessToken(
            CalendlyToken::parse(token).expect("token"),
        ),
        calendly_user: CalendlyUser {
            uri: CalendlyUserUri::parse(format!("https://api.calendly.com/users/{user}"))
                .expect("uri"),
            name: user.into(),
            email: format!("{user}@example.com"),
            scheduling_url: format!("https://calendly.com/{user}"),
            timezone: "Europe/Berlin".into(),
            organization: None,
        },
        connected_at: DateTime::parse_from_rfc3339("2030-01-01T12:00:00Z")
            .expect("time")
            .to_utc(),
        webhooks: Webhooks::Off,
        scopes: None,
    }
}

async fn token_of(instance: &Instance, user: &UserId) -> Option<String> {
    let loaded = instance.tokens.load(user).await.expect("load")?;
    Some(loaded.credential.access_token().expose().to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_anywhere_is_seen_by_every_instance_within_a_second() {
    let database = TestDatabase::create().await;
    let [a, b] = listening(database.url()).await;
    let alice = UserId::parse("alice").expect("user id");

    // Connected through A, read through B: once from the database, then from memory.
    saved(&a, "alice", "token-one").await;
    for _ in 0..5 {
        assert_eq!(token_of(&b, &alice).await.as_deref(), Some("token-one"));
    }
    assert_eq!(b.reads.database.load(Ordering::SeqCst), 1);
    assert_eq!(b.reads.memory.load(Ordering::SeqCst), 4);

    // Replaced through A: B answers the new token within a second.
    a.tokens
        .save(&connection("alice", "token-two"))
        .await
        .expect("save");
    let seen = until("the new token at B", Duration::from_secs(1), async || {
        token_of(&b, &alice).await.as_deref() == Some("token-two")
    })
    .await;
    eprintln!("replacement seen by B after {seen:?}");

    // Disconnected through B: A (which kept it) has none within a second.
    assert_eq!(token_of(&a, &alice).await.as_deref(), Some("token-two"));
    assert!(b.tokens.delete(&alice).await.expect("delete"));
    let seen = until("the disconnect at A", Duration::from_secs(1), async || {
        token_of(&a, &alice).await.is_none()
    })
    .await;
    eprintln!("disconnect seen by A after {seen:?}");

    // A change by plain SQL (another process) notifies too.
    a.tokens
        .save(&connection("alice", "token-three"))
        .await
        .expect("save");
    until("kept at B", Duration::from_secs(1), async || {
        token_of(&b, &alice).await.as_deref() == Some("token-three")
    })
    .await;
    database.execute("DELETE FROM calendly_connections").await;
    until("the SQL delete at B", Duration::from_secs(1), async || {
        token_of(&b, &alice).await.is_none()
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_listener_never_leaves_a_stale_answer_and_listens_again() {
    let database = TestDatabase::create().await;
    let [b] = listening(database.url()).await;
    let alice = UserId::parse("alice").expect("user id");
    saved(&b, "alice", "token-one").await;
    assert_eq!(token_of(&b, &alice).await.as_deref(), Some("token-one"));
    assert_eq!(token_of(&b, &alice).await.as_deref(), Some("token-one"));
    assert_eq!(b.reads.memory.load(Ordering::SeqCst), 1, "kept");

    // The listener's backend is killed, and the connection deleted by SQL at once: its notice
    // reaches no one, yet B stops answering it within a second.
    database
        .execute(&format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE application_name = '{LISTENER_NAME}' AND datname = current_database()"
        ))
        .await;
    database.execute("DELETE FROM calendly_connections").await;
    until("no stale answer", Duration::from_secs(1), async || {
        token_of(&b, &alice).await.is_none()
    })
    .await;

    // It listens again by itself, and keeps connections again.
    until("listening again", Duration::from_secs(5), async || {
        b.cache.is_listening()
    })
    .await;
    saved(&b, "alice", "token-two").await;
    let before = b.reads.memory.load(Ordering::SeqCst);
    assert_eq!(token_of(&b, &alice).await.as_deref(), Some("token-two"));
    assert_eq!(token_of(&b, &alice).await.as_deref(), Some("token-two"));
    assert_eq!(b.reads.memory.load(Ordering::SeqCst), before + 1);
}

/// What an instance's own answers by account were told to forget.
#[derive(Debug, Default)]
struct Forgotten(std::sync::Mutex<Vec<String>>);

#[async_trait::async_trait]
impl domain::AccountCache for Forgotten {
    async fn forget(&self, account: &CalendlyUserUri) {
        self.0
            .lock()
            .expect("lock")
            .push(format!("all {}", account.as_str()));
    }

    async fn forget_times(&self, account: &CalendlyUserUri) {
        self.0
            .lock()
            .expect("lock")
            .push(format!("times {}", account.as_str()));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_one_instance_forgets_the_others_forget_too() {
    use domain::AccountCache as _;
    let database = TestDatabase::create().await;
    let [a, b] = listening(database.url()).await;
    let (a_local, b_local) = (
        Arc::new(Forgotten::default()),
        Arc::new(Forgotten::default()),
    );
    let a_shared = a.cache.share_forgetting(Arc::clone(&a_local) as _);
    let _b_shared = b.cache.share_forgetting(Arc::clone(&b_local) as _);
    let account = CalendlyUserUri::parse("https://api.calendly.com/users/BOOKED").expect("uri");

    a_shared.forget_times(&account).await;
    a_shared.forget(&account).await;
    let told = [
        "times https://api.calendly.com/users/BOOKED",
        "all https://api.calendly.com/users/BOOKED",
    ];
    until("B forgets", Duration::from_secs(1), async || {
        *b_local.0.lock().expect("lock") == told
    })
    .await;
    tokio::time::sleep(HEARTBEAT * 2).await;
    assert_eq!(
        *a_local.0.lock().expect("lock"),
        told,
        "A once, not again from its own notice"
    );
    assert_eq!(*b_local.0.lock().expect("lock"), told);
}
