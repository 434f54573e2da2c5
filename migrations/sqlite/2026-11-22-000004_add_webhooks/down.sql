DROP INDEX calendly_connections_hook_id_idx;
ALTER TABLE calendly_connections DROP COLUMN webhook_subscription_uri;
ALTER TABLE calendly_connections DROP COLUMN webhook_key_ciphertext;
ALTER TABLE calendly_connections DROP COLUMN hook_id;
ALTER TABLE calendly_connections DROP COLUMN webhook_status;
ALTER TABLE calendly_connections DROP COLUMN calendly_organization_uri;
