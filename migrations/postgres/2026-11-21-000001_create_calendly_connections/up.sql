-- One row per user of the web application who connected a Calendly account.
-- The Calendly token is never stored in clear: token_ciphertext is AES-256-GCM
-- (nonce || ciphertext || tag) under the key named by token_key_id.
CREATE TABLE calendly_connections (
    user_id            TEXT        PRIMARY KEY CHECK (length(user_id) BETWEEN 1 AND 255),
    token_ciphertext   BYTEA       NOT NULL,
    token_key_id       TEXT        NOT NULL,
    calendly_user_uri  TEXT        NOT NULL,
    name               TEXT        NOT NULL,
    email              TEXT        NOT NULL,
    scheduling_url     TEXT        NOT NULL,
    timezone           TEXT        NOT NULL,
    connected_at       TIMESTAMPTZ NOT NULL,
    updated_at         TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX calendly_connections_token_key_id_idx ON calendly_connections (token_key_id);
