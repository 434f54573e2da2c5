-- Subscriptions made with an OAuth token are signed by Calendly with the OAuth application's
-- key, not a key of their own: webhook_signed_by says whose key signs a subscription's
-- deliveries ('subscription': webhook_key_ciphertext holds its own; 'application': none is
-- kept). webhook_disabled: Calendly disabled the subscription (its deliveries failed for a
-- day) and it is not yet made again. scopes: the scopes Calendly granted, space-separated;
-- NULL when it did not say. webhook_check_due_at: when an instance next looks at the
-- subscription at Calendly (NULL: as soon as one can).
ALTER TABLE calendly_connections
    ADD COLUMN webhook_signed_by TEXT NOT NULL DEFAULT 'subscription'
        CHECK (webhook_signed_by IN ('subscription', 'application')),
    ADD COLUMN webhook_disabled BOOLEAN NOT NULL DEFAULT FALSE,
    ADD COLUMN scopes TEXT,
    ADD COLUMN webhook_check_due_at TIMESTAMPTZ,
    DROP CONSTRAINT calendly_connections_active_webhook_complete,
    ADD CONSTRAINT calendly_connections_active_webhook_complete CHECK (
        (webhook_status = 'active') = (hook_id IS NOT NULL)
        AND (hook_id IS NULL) = (webhook_subscription_uri IS NULL)
        AND (webhook_key_ciphertext IS NOT NULL)
            = (hook_id IS NOT NULL AND webhook_signed_by = 'subscription')
        AND (NOT webhook_disabled OR hook_id IS NOT NULL)
    );

-- Existing connections are looked at spread over the first hour rather than all at once.
UPDATE calendly_connections
    SET webhook_check_due_at = now() + random() * interval '1 hour';

CREATE INDEX calendly_connections_webhook_check_due_idx
    ON calendly_connections (webhook_check_due_at);

-- Claiming a check moves webhook_check_due_at only: that changes nothing any instance keeps
-- in memory, so it is not notified.
CREATE OR REPLACE FUNCTION calendly_connections_notify() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE'
        AND (to_jsonb(OLD) - 'webhook_check_due_at') = (to_jsonb(NEW) - 'webhook_check_due_at')
    THEN
        RETURN NULL;
    END IF;
    PERFORM pg_notify('calendly_connections', COALESCE(NEW.user_id, OLD.user_id));
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
