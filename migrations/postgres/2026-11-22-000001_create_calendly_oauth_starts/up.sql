-- OAuth starts awaiting Calendly's callback: single use, bound to the user who started, for
-- ten minutes. The state is kept only as its SHA-256 (hex): a row read from the database
-- cannot finish a start. The PKCE verifier is AES-256-GCM under the key named by
-- verifier_key_id, with the user id and its purpose as associated data.
CREATE TABLE calendly_oauth_starts (
    state_hash           TEXT        PRIMARY KEY CHECK (length(state_hash) = 64),
    user_id              TEXT        NOT NULL CHECK (length(user_id) BETWEEN 1 AND 255),
    verifier_ciphertext  BYTEA       NOT NULL,
    verifier_key_id      TEXT        NOT NULL,
    expires_at           TIMESTAMPTZ NOT NULL
);

CREATE INDEX calendly_oauth_starts_expires_at_idx ON calendly_oauth_starts (expires_at);
