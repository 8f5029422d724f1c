-- Trained model versions. A row exists only once its snapshot directory is complete on disk
-- (written to a temp dir, fsync'd, renamed); at most one active version per model type.
CREATE TABLE models (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  model        TEXT    NOT NULL,
  version      TEXT    NOT NULL,
  path         TEXT    NOT NULL,
  created_at   INTEGER NOT NULL,
  valid_hr10   REAL    NOT NULL,
  metrics      TEXT    NOT NULL,  -- JSON: { valid, test } ranking metrics
  manifest     TEXT    NOT NULL,  -- JSON copy of manifest.json
  job_id       TEXT,
  active       INTEGER NOT NULL DEFAULT 0 CHECK (active IN (0, 1)),
  activated_at INTEGER,
  UNIQUE (model, version)
);
CREATE UNIQUE INDEX models_one_active ON models (model) WHERE active = 1;
CREATE INDEX models_activated ON models (activated_at);

-- Training jobs, whichever queue runs them (BullMQ only transports; the record lives here so
-- the API reads state, progress and results the same way for both queues).
CREATE TABLE jobs (
  id           TEXT    PRIMARY KEY,
  model        TEXT    NOT NULL,
  request      TEXT    NOT NULL,  -- JSON training request
  state        TEXT    NOT NULL CHECK (state IN ('queued', 'active', 'completed', 'failed', 'cancelled')),
  progress     TEXT,              -- JSON
  result       TEXT,              -- JSON
  error        TEXT,
  attempts     INTEGER NOT NULL DEFAULT 0,
  created_at   INTEGER NOT NULL,
  started_at   INTEGER,
  finished_at  INTEGER
);
CREATE INDEX jobs_model_state ON jobs (model, state);
CREATE INDEX jobs_created ON jobs (created_at DESC);
