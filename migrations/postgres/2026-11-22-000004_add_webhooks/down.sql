ALTER TABLE calendly_connections
    DROP CONSTRAINT calendly_connections_active_webhook_complete,
    DROP COLUMN webhook_subscription_uri,
    DROP COLUMN webhook_key_ciphertext,
    DROP COLUMN hook_id,
    DROP COLUMN webhook_status,
    DROP COLUMN calendly_organization_uri;
