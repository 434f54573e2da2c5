//! Bookings: what a web application asks to book for its user (the host), checked against what
//! the event type asks of its invitees, and the bookings the provider keeps.

mod form;
mod model;
mod ports;

pub use form::{BookingForm, FormError, Question};
pub use model::{
    Answer, BookedInvitee, Booking, BookingId, BookingRequest, BookingStatus, BookingsQuery, Email,
    IdempotencyKey, Invitee, InviteeName, KEY_LIFETIME, LocationChoice, MAX_GUESTS, MAX_KEY_CHARS,
    MAX_REASON_CHARS, RUNNING_LEASE, Tracking,
};
pub use ports::{BookingProvider, Claim, IdempotencyKeys, SlotHold, SlotHolds};
#[cfg(feature = "mock")]
pub use ports::{MockBookingProvider, MockIdempotencyKeys, MockSlotHolds};
