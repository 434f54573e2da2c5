-- The SQLite twin of migrations/postgres/2026-11-21-000001_create_calendly_connections.
-- One row per user of the web application who connected a Calendly account; the token is
-- AES-256-GCM (nonce || ciphertext || tag) under the key named by token_key_id.
-- Times are RFC 3339 text, as Diesel's TimestamptzSqlite writes them.
CREATE TABLE calendly_connections (
    user_id            TEXT NOT NULL PRIMARY KEY CHECK (length(user_id) BETWEEN 1 AND 255),
    token_ciphertext   BLOB NOT NULL,
    token_key_id       TEXT NOT NULL,
    calendly_user_uri  TEXT NOT NULL,
    name               TEXT NOT NULL,
    email              TEXT NOT NULL,
    scheduling_url     TEXT NOT NULL,
    timezone           TEXT NOT NULL,
    connected_at       TEXT NOT NULL,
    updated_at         TEXT NOT NULL
) STRICT;

CREATE INDEX calendly_connections_token_key_id_idx ON calendly_connections (token_key_id);
