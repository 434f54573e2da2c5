-- Every change to a connection (connect, disconnect, token renewal, webhook state) names its
-- user on the channel `calendly_connections` when it commits: each gateway instance keeps
-- connections in memory and forgets that user's on the notice.
CREATE FUNCTION calendly_connections_notify() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('calendly_connections', COALESCE(NEW.user_id, OLD.user_id));
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER calendly_connections_notify
    AFTER INSERT OR UPDATE OR DELETE ON calendly_connections
    FOR EACH ROW EXECUTE FUNCTION calendly_connections_notify();
