DROP TABLE calendly_connections;
