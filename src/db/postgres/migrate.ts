import path from 'node:path';
import { MigrationError, pendingMigrations, readMigrations, type LedgerRow, type MigrationResult } from '../migrations.js';
import { rows, type Pool } from './pool.js';

/** PostgreSQL's migrations live beside SQLite's, in their own dialect. */
export const postgresMigrationsDir = (migrationsDir: string): string => path.join(migrationsDir, 'postgres');

/**
 * Applies pending migrations, each in its own transaction, under a session advisory lock: N
 * replicas starting together queue on the lock, the first applies the files and the others find
 * nothing left to do. The same ledger checks as SQLite (edited files, a newer database) refuse to start.
 */
export async function migratePostgres(pool: Pool, migrationsDir: string): Promise<MigrationResult> {
  const files = readMigrations(postgresMigrationsDir(migrationsDir));
  const client = await pool.connect();
  try {
    // Keyed by schema: tests (and deployments sharing a server) migrate their own schemas independently.
    await client.query("SELECT pg_advisory_lock(hashtext('recflow.migrate.' || current_schema()))");
    try {
      await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version INTEGER PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at BIGINT NOT NULL)`);
      const ledger = await rows<LedgerRow>(client, 'SELECT version, name, checksum FROM schema_migrations');
      const applied: number[] = [];
      for (const m of pendingMigrations(files, ledger)) {
        try {
          await client.query('BEGIN');
          await client.query(m.sql);
          await client.query('INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES ($1, $2, $3, $4)', [m.version, m.name, m.checksum, Date.now()]);
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw new MigrationError(`migration ${m.file} failed and was rolled back: ${(err as Error).message}`, { cause: err });
        }
        applied.push(m.version);
      }
      return { applied, current: files.length ? files[files.length - 1].version : 0 };
    } finally {
      await client.query("SELECT pg_advisory_unlock(hashtext('recflow.migrate.' || current_schema()))").catch(() => undefined);
    }
  } finally {
    client.release();
  }
}

/** How many migrations the code knows for PostgreSQL (readiness compares the ledger with it). */
export const expectedPostgresMigrations = (migrationsDir: string): number => readMigrations(postgresMigrationsDir(migrationsDir)).length;
