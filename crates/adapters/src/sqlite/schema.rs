// The tables, as Diesel sees them on SQLite. Kept in step with migrations/sqlite by hand.

diesel::table! {
    calendly_connections (user_id) {
        user_id -> Text,
        token_ciphertext -> Binary,
        token_key_id -> Text,
        calendly_user_uri -> Text,
        name -> Text,
        email -> Text,
        scheduling_url -> Text,
        timezone -> Text,
        connected_at -> TimestamptzSqlite,
        updated_at -> TimestamptzSqlite,
        method -> Text,
        refresh_token_ciphertext -> Nullable<Binary>,
        access_token_expires_at -> Nullable<TimestamptzSqlite>,
        access_token_issued_at -> Nullable<TimestamptzSqlite>,
        calendly_organization_uri -> Nullable<Text>,
        webhook_status -> Text,
        hook_id -> Nullable<Text>,
        webhook_key_ciphertext -> Nullable<Binary>,
        webhook_subscription_uri -> Nullable<Text>,
        webhook_signed_by -> Text,
        webhook_disabled -> Bool,
        scopes -> Nullable<Text>,
        webhook_check_due_at -> Nullable<TimestamptzSqlite>,
    }
}

diesel::table! {
    calendly_oauth_starts (state_hash) {
        state_hash -> Text,
        user_id -> Text,
        verifier_ciphertext -> Binary,
        verifier_key_id -> Text,
        expires_at -> TimestamptzSqlite,
    }
}

diesel::table! {
    booking_keys (user_id, idempotency_key) {
        user_id -> Text,
        idempotency_key -> Text,
        fingerprint -> Text,
        state -> Text,
        answer -> Nullable<Text>,
        claimed_at -> TimestamptzSqlite,
        created_at -> TimestamptzSqlite,
    }
}

diesel::table! {
    slot_holds (event_type, start_time, seat) {
        event_type -> Text,
        start_time -> TimestamptzSqlite,
        seat -> Integer,
        held_until -> TimestamptzSqlite,
    }
}
