-- The dashboard's ingest-per-hour/day series reads events by arrival time; without this index
-- the aggregate scanned every event (ratings already have ratings_updated_at).
CREATE INDEX events_created_at ON events (created_at);
