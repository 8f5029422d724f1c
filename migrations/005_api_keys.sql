-- API keys: only a SHA-256 of each key is stored (keys are 256-bit random, so a fast hash is as
-- safe as a slow one and costs microseconds per request). `prefix` is the key's first characters,
-- kept to tell keys apart in listings. Revoked keys keep their row (audit), their name is freed.
CREATE TABLE api_keys (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  hash TEXT NOT NULL UNIQUE,
  prefix TEXT NOT NULL,
  scopes TEXT NOT NULL,
  requests_per_minute INTEGER,
  bytes_per_minute INTEGER,
  created_at INTEGER NOT NULL,
  last_used_at INTEGER,
  revoked_at INTEGER
);
CREATE UNIQUE INDEX api_keys_active_name ON api_keys (name) WHERE revoked_at IS NULL;
