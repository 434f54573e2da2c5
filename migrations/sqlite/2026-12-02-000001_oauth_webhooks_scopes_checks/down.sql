DROP INDEX calendly_connections_webhook_check_due_idx;
ALTER TABLE calendly_connections DROP COLUMN webhook_check_due_at;
ALTER TABLE calendly_connections DROP COLUMN scopes;
ALTER TABLE calendly_connections DROP COLUMN webhook_disabled;
ALTER TABLE calendly_connections DROP COLUMN webhook_signed_by;
