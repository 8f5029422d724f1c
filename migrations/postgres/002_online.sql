-- Online evaluation (SQLite migration 010 in this dialect): impressions, their items, the
-- feedback attributed to them, and experiments. Ids are external; times epoch milliseconds.
CREATE TABLE impressions (
  id            TEXT    PRIMARY KEY,            -- the answer's recommendationId
  route         TEXT    NOT NULL,               -- recommendations, similar, session, popular, leaderboard, latest
  user_id       TEXT,                           -- who was shown it, when known
  model         TEXT    NOT NULL,
  model_version TEXT,
  experiment_id TEXT,
  variant       TEXT,                           -- the A/B variant, or 'interleaved'
  exploration   DOUBLE PRECISION    NOT NULL DEFAULT 0,     -- the share of slots drawn at random (off-policy logging)
  pool_size     INTEGER NOT NULL DEFAULT 0,     -- how many items a random slot was drawn from
  reported      SMALLINT NOT NULL DEFAULT 0,     -- the client said what it rendered (POST /impressions)
  created_at    BIGINT NOT NULL
);
CREATE INDEX impressions_created ON impressions (created_at);
CREATE INDEX impressions_experiment ON impressions (experiment_id, created_at) WHERE experiment_id IS NOT NULL;
CREATE INDEX impressions_explored ON impressions (created_at) WHERE exploration > 0;

CREATE TABLE impression_items (
  impression_id TEXT    NOT NULL REFERENCES impressions (id) ON DELETE CASCADE,
  position      INTEGER NOT NULL,
  item_id       TEXT    NOT NULL,
  user_id       TEXT,
  source        TEXT    NOT NULL,
  team          TEXT,                           -- interleaving: the variant that placed the item
  propensity    DOUBLE PRECISION    NOT NULL DEFAULT 1,     -- the logging policy's probability of this item here
  novelty       DOUBLE PRECISION,                         -- -log2 of the item's share of users, when known
  seen          INTEGER NOT NULL DEFAULT 1,     -- 0 once a report says the client did not render it
  created_at    BIGINT NOT NULL,
  PRIMARY KEY (impression_id, position)
);
CREATE INDEX impression_items_user_item ON impression_items (user_id, item_id, created_at) WHERE user_id IS NOT NULL;

-- One row per (shown item, feedback type): a second click on the same slot is not a second conversion.
CREATE TABLE impression_feedback (
  impression_id TEXT    NOT NULL REFERENCES impressions (id) ON DELETE CASCADE,
  position      INTEGER NOT NULL,
  type          TEXT    NOT NULL,               -- an event type, or 'rating'
  positive      INTEGER NOT NULL,
  exact         INTEGER NOT NULL,               -- 1: the client sent the recommendationId back
  at            BIGINT  NOT NULL,
  PRIMARY KEY (impression_id, position, type)
);

CREATE TABLE experiments (
  id           TEXT    PRIMARY KEY,
  name         TEXT    NOT NULL,
  mode         TEXT    NOT NULL CHECK (mode IN ('ab', 'interleave')),
  status       TEXT    NOT NULL CHECK (status IN ('running', 'stopped', 'concluded')),
  spec         TEXT    NOT NULL,                -- JSON: variants, shares, metric, alpha, minimum effect
  verdict      TEXT,                            -- JSON: the sequential test's decision, fixed once reached
  winner       TEXT,
  created_at   BIGINT NOT NULL,
  stopped_at   BIGINT,
  concluded_at BIGINT
);
-- At most one experiment splits traffic at a time.
CREATE UNIQUE INDEX experiments_one_running ON experiments (status) WHERE status = 'running';
