DROP TRIGGER calendly_connections_notify ON calendly_connections;
DROP FUNCTION calendly_connections_notify();
