-- How each connection was made. An OAuth connection also keeps its refresh token
-- (AES-256-GCM under token_key_id, the same key as token_ciphertext, with the user id and its
-- purpose as associated data) and when its access token (token_ciphertext) expires.
ALTER TABLE calendly_connections
    ADD COLUMN method TEXT NOT NULL DEFAULT 'personal_access_token'
        CHECK (method IN ('personal_access_token', 'oauth')),
    ADD COLUMN refresh_token_ciphertext BYTEA,
    ADD COLUMN access_token_expires_at TIMESTAMPTZ;
