-- What serves by default, one row for the deployment. `auto`: the model type chosen by the
-- promotion rules (best validation HR@10; another type takes over only by beating the serving
-- version by PROMOTE_TOLERANCE); `pinned`: always `model`'s active version. `model` is the type
-- serving now (NULL until a first version is registered).
CREATE TABLE serving (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  mode TEXT NOT NULL CHECK (mode IN ('auto', 'pinned')),
  model TEXT,
  set_by TEXT NOT NULL,
  updated_at INTEGER NOT NULL
);
-- Until now serving followed the most recently activated version: start from that.
INSERT INTO serving (id, mode, model, set_by, updated_at)
SELECT 1, 'auto', (SELECT model FROM models WHERE active = 1 ORDER BY activated_at DESC, id DESC LIMIT 1), 'migration', CAST(strftime('%s', 'now') AS INTEGER) * 1000;
