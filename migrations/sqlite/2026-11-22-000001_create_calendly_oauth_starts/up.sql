-- The SQLite twin of migrations/postgres/2026-11-22-000001_create_calendly_oauth_starts:
-- OAuth starts awaiting Calendly's callback, the state kept as its SHA-256 (hex), the PKCE
-- verifier sealed. Times are RFC 3339 text, as Diesel's TimestamptzSqlite writes them.
CREATE TABLE calendly_oauth_starts (
    state_hash           TEXT NOT NULL PRIMARY KEY CHECK (length(state_hash) = 64),
    user_id              TEXT NOT NULL CHECK (length(user_id) BETWEEN 1 AND 255),
    verifier_ciphertext  BLOB NOT NULL,
    verifier_key_id      TEXT NOT NULL,
    expires_at           TEXT NOT NULL
) STRICT;

CREATE INDEX calendly_oauth_starts_expires_at_idx ON calendly_oauth_starts (expires_at);
