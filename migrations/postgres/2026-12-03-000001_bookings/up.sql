-- Idempotency keys of bookings, per user, for a day: the request's fingerprint (a SHA-256 of
-- its canonical text), whether a request with the key is running, in doubt (its booking's
-- answer was lost: the next claim asks Calendly first) or answered (answer: the booking, JSON).
CREATE TABLE booking_keys (
    user_id TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('running', 'doubt', 'answered')),
    answer TEXT,
    claimed_at TIMESTAMPTZ NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (user_id, idempotency_key),
    CHECK ((state = 'answered') = (answer IS NOT NULL))
);
CREATE INDEX booking_keys_created_idx ON booking_keys (created_at);

-- Seats of times being booked: one row per seat held, until held_until.
CREATE TABLE slot_holds (
    event_type TEXT NOT NULL,
    start_time TIMESTAMPTZ NOT NULL,
    seat INTEGER NOT NULL CHECK (seat >= 0),
    held_until TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (event_type, start_time, seat)
);
