DROP TABLE calendly_oauth_starts;
