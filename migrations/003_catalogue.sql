-- Item catalogue and user labels. Items created implicitly by ratings and events keep the
-- defaults: visible, always available, no categories.
ALTER TABLE items ADD COLUMN hidden INTEGER NOT NULL DEFAULT 0 CHECK (hidden IN (0, 1));
ALTER TABLE items ADD COLUMN available_from INTEGER;
ALTER TABLE items ADD COLUMN available_until INTEGER;
ALTER TABLE items ADD COLUMN labels TEXT;       -- JSON object of string → string
ALTER TABLE items ADD COLUMN updated_at INTEGER;
ALTER TABLE users ADD COLUMN labels TEXT;
ALTER TABLE users ADD COLUMN updated_at INTEGER;

CREATE TABLE item_categories (
  item_id  INTEGER NOT NULL REFERENCES items (id),
  category TEXT    NOT NULL,
  PRIMARY KEY (item_id, category)
) WITHOUT ROWID;
CREATE INDEX item_categories_category ON item_categories (category);

-- Bumped on every catalogue write, so every process notices changes with one cheap read.
CREATE TABLE catalogue_version (
  id      INTEGER PRIMARY KEY CHECK (id = 1),
  version INTEGER NOT NULL
);
INSERT INTO catalogue_version (id, version) VALUES (1, 0);
