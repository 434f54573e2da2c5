//! The bookings' idempotency keys and slot holds, on a real PostgreSQL database and on a
//! SQLite file: claims and holds raced from many tasks at once, each won once.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use chrono::{DateTime, TimeDelta, Utc};
use domain::booking::{
    Booking, BookingId, BookingStatus, Claim, IdempotencyKey, IdempotencyKeys, SlotHolds,
};
use domain::{EventTypeUri, RawJson, UserId};
use secrecy::SecretString;

const POOL_TIMEOUT: Duration = Duration::from_secs(2);
const QUERY_TIMEOUT: Duration = Duration::from_secs(5);

fn cipher() -> Arc<adapters::crypto::TokenCipher> {
    let key = SecretString::from(base64::engine::general_purpose::STANDARD.encode([7u8; 32]));
    Arc::new(
        adapters::crypto::TokenCipher::from_keys(&[("default".to_owned(), key)]).expect("keys"),
    )
}

/// The keys and holds of one store.
trait Store: IdempotencyKeys + SlotHolds {}
impl<T: IdempotencyKeys + SlotHolds> Store for T {}

async fn postgres() -> (Arc<dyn Store>, test_support::TestDatabase) {
    use adapters::postgres::{PgPoolSettings, PgTokenRepository, build_pool, run_migrations};
    let database = test_support::TestDatabase::create().await;
    let settings = PgPoolSettings {
        url: SecretString::from(database.url()),
        max_size: 8,
        acquire_timeout: POOL_TIMEOUT,
        statement_timeout: QUERY_TIMEOUT,
    };
    run_migrations(&settings.url)
        .await
        .expect("migrations apply");
    let store = PgTokenRepository::new(
        build_pool(&settings).expect("pool"),
        cipher(),
        QUERY_TIMEOUT,
    );
    (Arc::new(store), database)
}

async fn sqlite() -> (Arc<dyn Store>, test_support::TestSqliteFile) {
    use adapters::sqlite::{SqlitePoolSettings, SqliteTokenRepository, build_pool, run_migrations};
    let file = test_support::TestSqliteFile::create();
    let settings = SqlitePoolSettings {
        path: file.path().to_owned(),
        max_size: 8,
        acquire_timeout: POOL_TIMEOUT,
        busy_timeout: QUERY_TIMEOUT,
    };
    run_migrations(&settings.path)
        .await
        .expect("migrations apply");
    let store = SqliteTokenRepository::new(
        build_pool(&settings).expect("pool"),
        cipher(),
        QUERY_TIMEOUT,
    );
    (Arc::new(store), file)
}

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).expect("time").to_utc()
}

fn user(id: &str) -> UserId {
    UserId::parse(id).expect("user")
}

fn key(text: &str) -> IdempotencyKey {
    IdempotencyKey::parse(text).expect("key")
}

fn booking() -> Booking {
    Booking {
        id: BookingId::parse("EV1").expect("id"),
        uri: "https://api.calendly.com/scheduled_events/EV1".into(),
        event_type: Some("https://api.calendly.com/event_types/E".into()),
        name: "30 Minute Meeting".into(),
        start_time: at("2030-01-02T09:00:00Z"),
        end_time: at("2030-01-02T09:30:00Z"),
        status: BookingStatus::Active,
        location: RawJson::parse(r#"{"type":"zoom_conference"}"#).expect("json"),
        invitees_counter: None,
        invitees: Some(Vec::new()),
    }
}

const NOW: &str = "2030-01-01T00:00:00Z";

async fn a_key_is_claimed_once_answered_again_and_refused_with_another_body(store: Arc<dyn Store>) {
    let now = at(NOW);
    let claims = futures::future::join_all((0..10).map(|_| {
        let store = Arc::clone(&store);
        async move {
            store
                .claim(&user("u1"), &key("k"), "body", now)
                .await
                .expect("claim")
        }
    }))
    .await;
    let won = claims
        .iter()
        .filter(|c| **c == Claim::Claimed { after_doubt: false })
        .count();
    assert_eq!(won, 1, "{claims:?}");
    assert!(
        claims
            .iter()
            .all(|c| matches!(c, Claim::Claimed { .. } | Claim::Running))
    );

    store
        .answer(&user("u1"), &key("k"), &booking())
        .await
        .expect("answered");
    let again = store
        .claim(&user("u1"), &key("k"), "body", now)
        .await
        .expect("claim");
    assert_eq!(again, Claim::Answered(Box::new(booking())));
    let other = store
        .claim(&user("u1"), &key("k"), "another body", now)
        .await
        .expect("claim");
    assert_eq!(other, Claim::Reused);
    // Keys are per user; a day later the key is new.
    let elsewhere = store
        .claim(&user("u2"), &key("k"), "another body", now)
        .await
        .expect("claim");
    assert_eq!(elsewhere, Claim::Claimed { after_doubt: false });
    let tomorrow = now + TimeDelta::hours(24) + TimeDelta::seconds(1);
    let later = store
        .claim(&user("u1"), &key("k"), "another body", tomorrow)
        .await
        .expect("claim");
    assert_eq!(later, Claim::Claimed { after_doubt: false });
}

async fn a_released_key_is_free_a_doubted_or_stale_one_is_taken_over_once(store: Arc<dyn Store>) {
    let now = at(NOW);
    let (u, k) = (user("u1"), key("k"));
    assert_eq!(
        store.claim(&u, &k, "body", now).await.expect("claim"),
        Claim::Claimed { after_doubt: false }
    );
    store.forget(&u, &k).await.expect("released");
    assert_eq!(
        store.claim(&u, &k, "body", now).await.expect("claim"),
        Claim::Claimed { after_doubt: false }
    );
    store.doubt(&u, &k).await.expect("doubted");
    let claims = futures::future::join_all((0..6).map(|_| {
        let store = Arc::clone(&store);
        let (u, k) = (u.clone(), k.clone());
        async move { store.claim(&u, &k, "body", now).await.expect("claim") }
    }))
    .await;
    let taken = claims
        .iter()
        .filter(|c| **c == Claim::Claimed { after_doubt: true })
        .count();
    assert_eq!(taken, 1, "{claims:?}");
    // Running, and not yet past its lease: the others wait; past it, one takes over.
    assert_eq!(
        store.claim(&u, &k, "body", now).await.expect("claim"),
        Claim::Running
    );
    let stale = now + TimeDelta::minutes(3);
    assert_eq!(
        store.claim(&u, &k, "body", stale).await.expect("claim"),
        Claim::Claimed { after_doubt: true }
    );
    // An answered key is not released.
    store.answer(&u, &k, &booking()).await.expect("answered");
    store.forget(&u, &k).await.expect("released");
    assert!(matches!(
        store.claim(&u, &k, "body", stale).await.expect("claim"),
        Claim::Answered(_)
    ));
}

async fn a_time_is_held_by_as_many_as_its_seats_until_released_or_ended(store: Arc<dyn Store>) {
    let now = at(NOW);
    let until = now + TimeDelta::minutes(5);
    let one = EventTypeUri::parse("https://api.calendly.com/event_types/ONE").expect("uri");
    let start = at("2030-01-02T09:00:00Z");
    let holds = futures::future::join_all((0..10).map(|_| {
        let (store, one) = (Arc::clone(&store), one.clone());
        async move { store.hold(&one, start, 1, now, until).await.expect("hold") }
    }))
    .await;
    assert_eq!(holds.iter().flatten().count(), 1, "{holds:?}");
    let held = holds.into_iter().flatten().next().expect("held");
    store.release(&held).await.expect("released");
    assert!(
        store
            .hold(&one, start, 1, now, until)
            .await
            .expect("hold")
            .is_some()
    );
    // Past its time, a hold counts no more.
    assert!(
        store
            .hold(&one, start, 1, now, until)
            .await
            .expect("hold")
            .is_none()
    );
    assert!(
        store
            .hold(&one, start, 1, until, until + TimeDelta::minutes(5))
            .await
            .expect("hold")
            .is_some()
    );

    let group = EventTypeUri::parse("https://api.calendly.com/event_types/GROUP").expect("uri");
    let seats = futures::future::join_all((0..5).map(|_| {
        let (store, group) = (Arc::clone(&store), group.clone());
        async move {
            store
                .hold(&group, start, 3, now, until)
                .await
                .expect("hold")
        }
    }))
    .await;
    assert_eq!(seats.iter().flatten().count(), 3, "{seats:?}");
    store.release_all(&group, start).await.expect("released");
    assert!(
        store
            .hold(&group, start, 3, now, until)
            .await
            .expect("hold")
            .is_some()
    );
}

macro_rules! on_every_backend {
    ($($test:ident),* $(,)?) => {
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    let (store, _database) = super::postgres().await;
                    super::$test(store).await;
                }
            )*
        }
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    let (store, _file) = super::sqlite().await;
                    super::$test(store).await;
                }
            )*
        }
    };
}

on_every_backend!(
    a_key_is_claimed_once_answered_again_and_refused_with_another_body,
    a_released_key_is_free_a_doubted_or_stale_one_is_taken_over_once,
    a_time_is_held_by_as_many_as_its_seats_until_released_or_ended,
);
