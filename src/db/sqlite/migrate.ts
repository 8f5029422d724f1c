import type { Db } from './connection.js';
import { MigrationError, pendingMigrations, readMigrations, type LedgerRow, type MigrationResult } from '../migrations.js';

export { MigrationError } from '../migrations.js';

function ensureLedger(db: Db): void {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL,
    checksum   TEXT    NOT NULL,
    applied_at INTEGER NOT NULL
  )`);
}

/**
 * Applies pending migrations in order, each in its own transaction, recording each in
 * `schema_migrations`. Refuses to start when an applied file was edited afterwards or the
 * database is newer than the code, since either means the schema is not what the code expects.
 */
export function migrate(db: Db, dir: string): MigrationResult {
  const files = readMigrations(dir);
  ensureLedger(db);
  const ledger = db.prepare('SELECT version, name, checksum FROM schema_migrations').all() as LedgerRow[];
  const applied: number[] = [];
  for (const m of pendingMigrations(files, ledger)) {
    const apply = db.transaction(() => {
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)').run(
        m.version,
        m.name,
        m.checksum,
        Date.now(),
      );
    });
    try {
      apply();
    } catch (err) {
      throw new MigrationError(`migration ${m.file} failed and was rolled back: ${(err as Error).message}`, { cause: err });
    }
    applied.push(m.version);
  }
  return { applied, current: files.length ? files[files.length - 1].version : 0 };
}
