//! Cancelling a booking.

use super::bookings::{
    Expected, START, TYPE, booking, booking_service, scheduling, times_forgotten, wired,
};
use super::*;
use crate::booking::{
    Booking, BookingId, BookingStatus, MockBookingProvider, MockIdempotencyKeys, MockSlotHolds,
};

#[tokio::test]
async fn cancelling_forgets_the_hosts_times_and_lets_the_seats_go() {
    let mut provider = MockBookingProvider::new();
    provider
        .expect_booking()
        .returning(|_, _, _| Ok(booking(BookingStatus::Active)));
    provider
        .expect_cancel()
        .withf(|_, _, id, reason| id.as_str() == "EV1" && *reason == Some("ill"))
        .times(1)
        .returning(|_, _, _, _| Ok(()));
    let mut holds = MockSlotHolds::new();
    holds
        .expect_release_all()
        .withf(|event_type, start| event_type.as_str() == TYPE && *start == at(START))
        .times(1)
        .returning(|_, _| Ok(()));
    let canceled = booking_service(
        scheduling(&[]),
        times_forgotten(),
        wired(provider, MockIdempotencyKeys::new(), holds),
    )
    .cancel_booking(
        &user_id(),
        &BookingId::parse("EV1").expect("id"),
        Some("ill"),
    )
    .await
    .expect("canceled");
    assert_eq!(canceled.status, BookingStatus::Canceled);
    assert!(
        canceled
            .invitees
            .expect("invitees")
            .iter()
            .all(|i| i.status == BookingStatus::Canceled)
    );
}

#[tokio::test]
async fn a_canceled_or_anothers_booking_or_a_long_reason_is_refused_without_cancelling() {
    let cases: [(Result<Booking, ProviderError>, Option<String>, Expected); 3] = [
        (Ok(booking(BookingStatus::Canceled)), None, |e| {
            matches!(e, GatewayError::BookingAlreadyCanceled)
        }),
        (
            Err(ProviderError::Rejected {
                reason: Rejection::Forbidden,
                details: serde_json::Value::Null,
            }),
            None,
            |e| matches!(e, GatewayError::BookingNotFound),
        ),
        (
            Ok(booking(BookingStatus::Active)),
            Some("x".repeat(10_001)),
            |e| matches!(e, GatewayError::InvalidBooking(m) if m.starts_with("reason")),
        ),
    ];
    for (read, reason, expected) in cases {
        let mut provider = MockBookingProvider::new();
        provider
            .expect_booking()
            .returning(move |_, _, _| read.clone());
        provider.expect_cancel().never();
        let error = booking_service(
            scheduling(&[]),
            MockAccountCache::new(),
            wired(provider, MockIdempotencyKeys::new(), MockSlotHolds::new()),
        )
        .cancel_booking(
            &user_id(),
            &BookingId::parse("EV1").expect("id"),
            reason.as_deref(),
        )
        .await
        .expect_err("refused");
        assert!(expected(&error), "{error:?}");
    }
}
