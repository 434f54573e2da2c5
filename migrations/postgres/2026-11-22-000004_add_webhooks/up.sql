-- Each connection's webhook subscription at Calendly. webhook_status is 'off' (no public URL
-- for webhooks when it was made), 'unavailable' (Calendly refused or failed the subscription)
-- or 'active'; an active one has its random hook id (the URL's last segment, unique), its
-- signing key (AES-256-GCM under token_key_id, with the user id and its purpose as associated
-- data) and the subscription's URI at Calendly. The Calendly organization the user belonged
-- to when connecting is kept beside it.
ALTER TABLE calendly_connections
    ADD COLUMN calendly_organization_uri TEXT,
    ADD COLUMN webhook_status TEXT NOT NULL DEFAULT 'off'
        CHECK (webhook_status IN ('off', 'unavailable', 'active')),
    ADD COLUMN hook_id TEXT UNIQUE,
    ADD COLUMN webhook_key_ciphertext BYTEA,
    ADD COLUMN webhook_subscription_uri TEXT,
    ADD CONSTRAINT calendly_connections_active_webhook_complete CHECK (
        (webhook_status = 'active') = (hook_id IS NOT NULL)
        AND (hook_id IS NULL) = (webhook_key_ciphertext IS NULL)
        AND (hook_id IS NULL) = (webhook_subscription_uri IS NULL)
    );
