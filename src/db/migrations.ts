import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const FILE_PATTERN = /^(\d{3})_([a-z0-9_]+)\.sql$/;

export interface MigrationFile {
  version: number;
  name: string;
  file: string;
  sql: string;
  checksum: string;
}

export interface MigrationResult {
  applied: number[];
  current: number;
}

/** Raised when migrations cannot be applied; the database is left as it was before the failing file. */
export class MigrationError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MigrationError';
  }
}

/** Reads `NNN_name.sql` files in version order; other files are ignored, duplicate versions refused. */
export function readMigrations(dir: string): MigrationFile[] {
  const files = fs.readdirSync(dir).filter((f) => FILE_PATTERN.test(f)).sort();
  const seen = new Set<number>();
  return files.map((file) => {
    const [, version, name] = FILE_PATTERN.exec(file)!;
    const v = Number(version);
    if (seen.has(v)) throw new MigrationError(`two migrations share version ${version} in ${dir}`);
    seen.add(v);
    const sql = fs.readFileSync(path.join(dir, file), 'utf8');
    const checksum = crypto.createHash('sha256').update(sql).digest('hex');
    return { version: v, name, file, sql, checksum };
  });
}

export interface LedgerRow {
  version: number;
  name: string;
  checksum: string;
}

/**
 * The files not applied yet, in order. Refuses (MigrationError) when an applied file was edited
 * afterwards or the database is newer than the code: either way the schema is not what the code expects.
 */
export function pendingMigrations(files: readonly MigrationFile[], ledgerRows: readonly LedgerRow[]): MigrationFile[] {
  const ledger = new Map(ledgerRows.map((r) => [r.version, r]));
  const known = new Set(files.map((f) => f.version));
  for (const row of ledger.values()) {
    if (!known.has(row.version)) {
      throw new MigrationError(
        `database has migration ${row.version} (${row.name}) that this version of recflow does not know; refusing to start with an older build`,
      );
    }
  }
  return files.filter((m) => {
    const done = ledger.get(m.version);
    if (done && done.checksum !== m.checksum) throw new MigrationError(`migration ${m.file} was changed after it was applied (checksum mismatch)`);
    return !done;
  });
}

/**
 * `/readyz`'s view of a database, whichever engine: empty when every migration this build knows is
 * applied; else what is wrong (fewer migrations, or the database unreachable).
 */
export async function migrationReadiness(applied: () => number | Promise<number>, expected: number): Promise<string[]> {
  try {
    const n = await applied();
    return n === expected ? [] : [`migrations applied ${n}/${expected}`];
  } catch (err) {
    return [`database: ${(err as Error).message}`];
  }
}
