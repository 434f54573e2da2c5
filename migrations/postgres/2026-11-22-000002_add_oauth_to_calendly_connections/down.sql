ALTER TABLE calendly_connections
    DROP COLUMN access_token_expires_at,
    DROP COLUMN refresh_token_ciphertext,
    DROP COLUMN method;
