-- A running job's liveness: refreshed about every second by whichever process runs it. A second
-- job of the same model waits while the first one's heartbeat is fresh.
ALTER TABLE jobs ADD COLUMN heartbeat_at INTEGER;
