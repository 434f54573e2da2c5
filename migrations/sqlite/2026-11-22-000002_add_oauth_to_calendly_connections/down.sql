ALTER TABLE calendly_connections DROP COLUMN access_token_expires_at;
ALTER TABLE calendly_connections DROP COLUMN refresh_token_ciphertext;
ALTER TABLE calendly_connections DROP COLUMN method;
