//! Booking: the checks before any call, the held seat, the idempotency key, a lost answer.

use super::*;
use crate::booking::{
    Answer, BookedInvitee, Booking, BookingForm, BookingId, BookingRequest, BookingStatus, Claim,
    Email, IdempotencyKey, Invitee, InviteeName, MockBookingProvider, MockIdempotencyKeys,
    MockSlotHolds, Question, SlotHold,
};
use crate::use_cases::BookingPorts;

pub(super) const TYPE: &str = "https://api.calendly.com/event_types/E";
const INACTIVE: &str = "https://api.calendly.com/event_types/I";
pub(super) const START: &str = "2030-01-02T09:00:00Z";
const QUESTION: &str = "What should we talk about?";

/// What an error is expected to be.
pub(super) type Expected = fn(&GatewayError) -> bool;

pub(super) fn scheduling(times: &'static [&'static str]) -> MockSchedulingProvider {
    let mut scheduling = MockSchedulingProvider::new();
    scheduling.expect_event_types().returning(|_, _| {
        let mut inactive = event_type(INACTIVE);
        inactive.active = false;
        Ok(vec![event_type(TYPE), inactive].into())
    });
    scheduling
        .expect_available_times()
        .returning(move |_, _, _, _| Ok(times.iter().map(|t| available(t, 1)).collect()));
    scheduling.expect_afford().returning(|_, _| Ok(()));
    scheduling
}

fn request() -> BookingRequest {
    BookingRequest {
        event_type: EventTypeUri::parse(TYPE).expect("uri"),
        start_time: at(START),
        invitee: Invitee {
            name: InviteeName::Full("Ada Lovelace".into()),
            email: Email::parse("ada@example.com").expect("email"),
            timezone: chrono_tz::Europe::London,
            text_reminder_number: None,
        },
        location: None,
        answers: vec![Answer {
            question: QUESTION.into(),
            answer: "Engines".into(),
            position: 0,
        }],
        guests: Vec::new(),
        tracking: None,
    }
}

pub(super) fn booking(status: BookingStatus) -> Booking {
    Booking {
        id: BookingId::parse("EV1").expect("id"),
        uri: "https://api.calendly.com/scheduled_events/EV1".into(),
        event_type: Some(TYPE.into()),
        name: "Meeting".into(),
        start_time: at(START),
        end_time: at("2030-01-02T09:30:00Z"),
        status,
        location: RawJson::parse("null").expect("json"),
        invitees_counter: None,
        invitees: Some(vec![BookedInvitee {
            uri: "https://api.calendly.com/scheduled_events/EV1/invitees/I1".into(),
            name: "Ada Lovelace".into(),
            email: "ada@example.com".into(),
            timezone: "Europe/London".into(),
            status,
            cancel_url: None,
            reschedule_url: None,
            questions_and_answers: RawJson::parse("[]").expect("json"),
        }]),
    }
}

/// The event type's form: one required question.
fn form() -> BookingForm {
    BookingForm {
        questions: vec![Question {
            text: QUESTION.into(),
            position: 0,
            required: true,
            enabled: true,
        }],
        location_kinds: Vec::new(),
    }
}

/// A provider whose event type asks one required question; `book` answers as `book` says.
fn provider(
    book: impl Fn() -> Result<Booking, ProviderError> + Send + Sync + 'static,
) -> MockBookingProvider {
    let mut provider = MockBookingProvider::new();
    provider.expect_form().returning(|_| Ok(form()));
    provider.expect_book().returning(move |_, _, _| book());
    provider
}

fn free_holds() -> MockSlotHolds {
    let mut holds = MockSlotHolds::new();
    holds.expect_hold().returning(|event_type, start, _, _, _| {
        Ok(Some(SlotHold {
            event_type: event_type.clone(),
            start_time: start,
            seat: 0,
        }))
    });
    holds
}

fn key() -> IdempotencyKey {
    IdempotencyKey::parse("key-1").expect("key")
}

fn claimed(after_doubt: bool) -> MockIdempotencyKeys {
    let mut keys = MockIdempotencyKeys::new();
    keys.expect_claim()
        .returning(move |_, _, _, _| Ok(Claim::Claimed { after_doubt }));
    keys
}

pub(super) fn times_forgotten() -> MockAccountCache {
    let mut cache = MockAccountCache::new();
    cache.expect_forget_times().times(1).returning(|_| ());
    cache
}

pub(super) fn booking_service(
    scheduling: MockSchedulingProvider,
    cache: MockAccountCache,
    booking: BookingPorts,
) -> SchedulingService {
    SchedulingService::new(
        Ports {
            account_cache: Arc::new(cache),
            answers: Arc::new(crate::NoKeptAnswers),
            ..ports(connected_repository(), scheduling)
        },
        AvailabilityPolicy::default(),
    )
    .with_bookings(booking)
}

pub(super) fn wired(
    provider: MockBookingProvider,
    keys: MockIdempotencyKeys,
    holds: MockSlotHolds,
) -> BookingPorts {
    BookingPorts {
        provider: Arc::new(provider),
        keys: Arc::new(keys),
        holds: Arc::new(holds),
    }
}

#[tokio::test]
async fn a_free_time_is_booked_the_hosts_times_forgotten_and_the_answer_kept() {
    let mut keys = claimed(false);
    keys.expect_answer().times(1).returning(|_, _, _| Ok(()));
    keys.expect_forget().never();
    let service = booking_service(
        scheduling(&[START]),
        times_forgotten(),
        wired(
            provider(|| Ok(booking(BookingStatus::Active))),
            keys,
            free_holds(),
        ),
    );
    let booked = service
        .book(&user_id(), Some(&key()), &request())
        .await
        .expect("booked");
    assert_eq!(booked.booking.id.as_str(), "EV1");
    assert!(!booked.replayed);
}

#[tokio::test]
async fn bad_bookings_are_refused_before_any_hold_key_or_booking() {
    let mut past = request();
    past.start_time = at("2029-12-31T23:00:00Z");
    let mut inactive = request();
    inactive.event_type = EventTypeUri::parse(INACTIVE).expect("uri");
    let mut other = request();
    other.event_type = EventTypeUri::parse("https://api.calendly.com/event_types/X").expect("uri");
    let mut unanswered = request();
    unanswered.answers.clear();
    let cases: [(BookingRequest, Expected); 4] = [
        (
            past,
            |e| matches!(e, GatewayError::InvalidBooking(m) if m.starts_with("start_time")),
        ),
        (inactive, |e| {
            matches!(e, GatewayError::EventTypeInactive(_))
        }),
        (other, |e| matches!(e, GatewayError::EventTypeNotFound(_))),
        (
            unanswered,
            |e| matches!(e, GatewayError::InvalidBooking(m) if m.contains(QUESTION)),
        ),
    ];
    for (request, expected) in cases {
        let mut provider = provider(|| unreachable!("no booking"));
        provider.checkpoint();
        provider.expect_form().returning(|_| Ok(form()));
        provider.expect_book().never();
        let mut keys = MockIdempotencyKeys::new();
        keys.expect_claim().never();
        let mut holds = MockSlotHolds::new();
        holds.expect_hold().never();
        let service = booking_service(
            scheduling(&[START]),
            MockAccountCache::new(),
            wired(provider, keys, holds),
        );
        let error = service
            .book(&user_id(), Some(&key()), &request)
            .await
            .expect_err("refused");
        assert!(expected(&error), "{error:?}");
    }
}

#[tokio::test]
async fn a_time_not_offered_or_held_by_another_is_unavailable_without_a_booking() {
    for offered in [false, true] {
        let mut provider = provider(|| unreachable!("no booking"));
        provider.checkpoint();
        provider.expect_form().returning(|_| Ok(form()));
        provider.expect_book().never();
        let mut keys = claimed(false);
        keys.expect_forget().times(1).returning(|_, _| Ok(()));
        let mut holds = MockSlotHolds::new();
        holds
            .expect_hold()
            .times(usize::from(offered))
            .returning(|_, _, _, _, _| Ok(None));
        let times: &'static [&'static str] = if offered {
            &[START]
        } else {
            &["2030-01-02T10:00:00Z"]
        };
        let error = booking_service(
            scheduling(times),
            MockAccountCache::new(),
            wired(provider, keys, holds),
        )
        .book(&user_id(), Some(&key()), &request())
        .await
        .expect_err("unavailable");
        assert!(matches!(error, GatewayError::SlotUnavailable), "{error:?}");
    }
}

#[tokio::test]
async fn a_time_the_provider_calls_taken_is_unavailable_and_its_seat_and_key_let_go() {
    let mut keys = claimed(false);
    keys.expect_forget().times(1).returning(|_, _| Ok(()));
    let mut holds = free_holds();
    holds.expect_release().times(1).returning(|_| Ok(()));
    let taken = || {
        Err(ProviderError::Rejected {
            reason: Rejection::TimeUnavailable,
            details: serde_json::Value::Null,
        })
    };
    let error = booking_service(
        scheduling(&[START]),
        MockAccountCache::new(),
        wired(provider(taken), keys, holds),
    )
    .book(&user_id(), Some(&key()), &request())
    .await
    .expect_err("taken");
    assert!(matches!(error, GatewayError::SlotUnavailable), "{error:?}");
}

#[tokio::test]
async fn a_booking_whose_answer_was_lost_is_looked_up_and_answered() {
    let mut provider = provider(|| Err(ProviderError::Timeout));
    provider
        .expect_bookings()
        .withf(|_, _, query| {
            query.invitee_email.as_ref().map(Email::as_str) == Some("ada@example.com")
                && query.start == at(START)
        })
        .times(1)
        .returning(|_, _, _| {
            let mut listed = booking(BookingStatus::Active);
            listed.invitees = None;
            Ok(vec![listed])
        });
    provider
        .expect_booking()
        .times(1)
        .returning(|_, _, _| Ok(booking(BookingStatus::Active)));
    let mut keys = claimed(false);
    keys.expect_answer().times(1).returning(|_, _, _| Ok(()));
    keys.expect_forget().never();
    let booked = booking_service(
        scheduling(&[START]),
        times_forgotten(),
        wired(provider, keys, free_holds()),
    )
    .book(&user_id(), Some(&key()), &request())
    .await
    .expect("found");
    assert_eq!(booked.booking.id.as_str(), "EV1");
}

#[tokio::test]
async fn a_lost_answer_that_cannot_be_looked_up_leaves_the_key_in_doubt() {
    let mut provider = provider(|| Err(ProviderError::Timeout));
    provider
        .expect_bookings()
        .returning(|_, _, _| Err(ProviderError::Timeout));
    let mut keys = claimed(false);
    keys.expect_doubt().times(1).returning(|_, _| Ok(()));
    keys.expect_forget().never();
    let mut holds = free_holds();
    holds.expect_release().never();
    let error = booking_service(
        scheduling(&[START]),
        MockAccountCache::new(),
        wired(provider, keys, holds),
    )
    .book(&user_id(), Some(&key()), &request())
    .await
    .expect_err("not known");
    assert!(
        matches!(error, GatewayError::Provider(ProviderError::Timeout)),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_key_in_doubt_looks_first_and_does_not_book_again() {
    let mut provider = provider(|| unreachable!("booked before"));
    provider
        .expect_bookings()
        .times(1)
        .returning(|_, _, _| Ok(vec![booking(BookingStatus::Active)]));
    provider
        .expect_booking()
        .returning(|_, _, _| Ok(booking(BookingStatus::Active)));
    let mut keys = claimed(true);
    keys.expect_answer().times(1).returning(|_, _, _| Ok(()));
    let mut holds = MockSlotHolds::new();
    holds.expect_hold().never();
    let booked = booking_service(
        scheduling(&[START]),
        times_forgotten(),
        wired(provider, keys, holds),
    )
    .book(&user_id(), Some(&key()), &request())
    .await
    .expect("found");
    assert_eq!(booked.booking.id.as_str(), "EV1");
}

#[tokio::test]
async fn a_key_answers_again_refuses_another_body_and_waits_for_a_running_one() {
    let claims = [
        Claim::Answered(Box::new(booking(BookingStatus::Active))),
        Claim::Reused,
        Claim::Running,
    ];
    for claim in claims {
        let mut provider = provider(|| unreachable!("no booking"));
        provider.checkpoint();
        provider.expect_form().returning(|_| Ok(form()));
        let mut keys = MockIdempotencyKeys::new();
        let given = claim.clone();
        keys.expect_claim()
            .times(1)
            .returning(move |_, _, _, _| Ok(given.clone()));
        let service = booking_service(
            scheduling(&[START]),
            MockAccountCache::new(),
            wired(provider, keys, MockSlotHolds::new()),
        );
        let outcome = service.book(&user_id(), Some(&key()), &request()).await;
        match claim {
            Claim::Answered(_) => assert!(outcome.expect("answered").replayed),
            Claim::Reused => assert!(matches!(outcome, Err(GatewayError::IdempotencyKeyReused))),
            _ => assert!(
                matches!(outcome, Err(GatewayError::RequestInProgress)),
                "{outcome:?}"
            ),
        }
    }
}
