CREATE OR REPLACE FUNCTION calendly_connections_notify() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('calendly_connections', COALESCE(NEW.user_id, OLD.user_id));
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

DROP INDEX calendly_connections_webhook_check_due_idx;
DELETE FROM calendly_connections WHERE webhook_signed_by = 'application' AND hook_id IS NOT NULL;
ALTER TABLE calendly_connections
    DROP CONSTRAINT calendly_connections_active_webhook_complete,
    DROP COLUMN webhook_check_due_at,
    DROP COLUMN scopes,
    DROP COLUMN webhook_disabled,
    DROP COLUMN webhook_signed_by,
    ADD CONSTRAINT calendly_connections_active_webhook_complete CHECK (
        (webhook_status = 'active') = (hook_id IS NOT NULL)
        AND (hook_id IS NULL) = (webhook_key_ciphertext IS NULL)
        AND (hook_id IS NULL) = (webhook_subscription_uri IS NULL)
    );
