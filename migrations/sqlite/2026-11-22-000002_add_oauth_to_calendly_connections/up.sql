-- The SQLite twin of migrations/postgres/2026-11-22-000002_add_oauth_to_calendly_connections.
ALTER TABLE calendly_connections ADD COLUMN method TEXT NOT NULL DEFAULT 'personal_access_token'
    CHECK (method IN ('personal_access_token', 'oauth'));
ALTER TABLE calendly_connections ADD COLUMN refresh_token_ciphertext BLOB;
ALTER TABLE calendly_connections ADD COLUMN access_token_expires_at TEXT;
