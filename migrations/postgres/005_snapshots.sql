-- Model snapshots in the database, so that replicas on other hosts need nothing shared but it.
-- A version is written chunk by chunk (a file of 256 MB is 64 rows of 4 MiB) and becomes
-- visible only when `complete` is set, after its last chunk; deleting the version deletes them.
CREATE TABLE snapshot_versions (
  model      TEXT    NOT NULL,
  version    TEXT    NOT NULL,
  manifest   TEXT    NOT NULL,
  created_at BIGINT  NOT NULL,
  complete   BOOLEAN NOT NULL DEFAULT false,
  PRIMARY KEY (model, version)
);

CREATE TABLE snapshot_chunks (
  model   TEXT    NOT NULL,
  version TEXT    NOT NULL,
  file    TEXT    NOT NULL,
  seq     INTEGER NOT NULL,
  data    BYTEA   NOT NULL,
  PRIMARY KEY (model, version, file, seq),
  FOREIGN KEY (model, version) REFERENCES snapshot_versions (model, version) ON DELETE CASCADE
);
-- Float arrays do not compress: storing them as they are saves the CPU of trying.
ALTER TABLE snapshot_chunks ALTER COLUMN data SET STORAGE EXTERNAL;
