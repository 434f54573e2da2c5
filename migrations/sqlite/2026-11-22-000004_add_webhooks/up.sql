-- The SQLite twin of migrations/postgres/2026-11-22-000004_add_webhooks (SQLite cannot add a
-- table constraint to an existing table: the repository writes the columns together).
ALTER TABLE calendly_connections ADD COLUMN calendly_organization_uri TEXT;
ALTER TABLE calendly_connections ADD COLUMN webhook_status TEXT NOT NULL DEFAULT 'off'
    CHECK (webhook_status IN ('off', 'unavailable', 'active'));
ALTER TABLE calendly_connections ADD COLUMN hook_id TEXT;
ALTER TABLE calendly_connections ADD COLUMN webhook_key_ciphertext BLOB;
ALTER TABLE calendly_connections ADD COLUMN webhook_subscription_uri TEXT;
CREATE UNIQUE INDEX calendly_connections_hook_id_idx ON calendly_connections (hook_id);
