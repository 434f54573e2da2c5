-- The PostgreSQL twin makes every change to a connection notify the gateway's instances.
-- SQLite has no notifications: on SQLite the gateway reads the connection on every request,
-- so there is nothing to change here.
SELECT 1;
