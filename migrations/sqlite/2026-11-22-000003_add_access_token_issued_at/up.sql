-- The SQLite twin of migrations/postgres/2026-11-22-000003_add_access_token_issued_at.
ALTER TABLE calendly_connections ADD COLUMN access_token_issued_at TEXT;
