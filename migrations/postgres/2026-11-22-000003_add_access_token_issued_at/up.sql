-- When an OAuth connection's access token was issued: with its expiry, how long it lives, so
-- that a short-lived token is renewed once per lifetime rather than at every use.
ALTER TABLE calendly_connections ADD COLUMN access_token_issued_at TIMESTAMPTZ;
