-- The SQLite twin of migrations/postgres/2026-12-02-000001_oauth_webhooks_scopes_checks (SQLite
-- cannot change a table constraint: the repository writes the columns together; it has no
-- notifications to spare).
ALTER TABLE calendly_connections ADD COLUMN webhook_signed_by TEXT NOT NULL DEFAULT 'subscription'
    CHECK (webhook_signed_by IN ('subscription', 'application'));
ALTER TABLE calendly_connections ADD COLUMN webhook_disabled INTEGER NOT NULL DEFAULT 0
    CHECK (webhook_disabled IN (0, 1));
ALTER TABLE calendly_connections ADD COLUMN scopes TEXT;
ALTER TABLE calendly_connections ADD COLUMN webhook_check_due_at TEXT;
CREATE INDEX calendly_connections_webhook_check_due_idx
    ON calendly_connections (webhook_check_due_at);
