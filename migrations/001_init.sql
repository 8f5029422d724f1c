-- Users and items: the client's external string id mapped to a dense internal integer id.
CREATE TABLE users (
  id          INTEGER PRIMARY KEY,
  external_id TEXT    NOT NULL UNIQUE,
  created_at  INTEGER NOT NULL
);

CREATE TABLE items (
  id          INTEGER PRIMARY KEY,
  external_id TEXT    NOT NULL UNIQUE,
  created_at  INTEGER NOT NULL
);

-- One current rating per (user, item); the later timestamp wins (see ratings repository).
-- id only grows (AUTOINCREMENT never reuses), so it doubles as an ingest watermark.
CREATE TABLE ratings (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  user_id     INTEGER NOT NULL REFERENCES users (id),
  item_id     INTEGER NOT NULL REFERENCES items (id),
  value       REAL    NOT NULL,
  ts          INTEGER NOT NULL,  -- when the user rated, epoch ms (client supplied or ingest time)
  updated_at  INTEGER NOT NULL,  -- when this row was last written, epoch ms
  UNIQUE (user_id, item_id)
);
CREATE INDEX ratings_user_ts ON ratings (user_id, ts DESC);
CREATE INDEX ratings_item ON ratings (item_id);
CREATE INDEX ratings_updated_at ON ratings (updated_at);

-- Implicit events. event_id is the client's idempotency key: replaying it is a no-op.
CREATE TABLE events (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  user_id     INTEGER NOT NULL REFERENCES users (id),
  item_id     INTEGER NOT NULL REFERENCES items (id),
  type        TEXT    NOT NULL,
  value       REAL    NOT NULL DEFAULT 1,
  ts          INTEGER NOT NULL,
  event_id    TEXT    UNIQUE,
  created_at  INTEGER NOT NULL
);
CREATE INDEX events_user_ts ON events (user_id, ts DESC);
CREATE INDEX events_item ON events (item_id);
