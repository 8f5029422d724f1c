/**
 * The database cannot be reached right now (a PostgreSQL server down or restarting, a network
 * partition): nothing was written, and the same request can be retried. The API answers 503.
 */
export class DatabaseUnavailableError extends Error {
  constructor(cause: unknown) {
    super(`database unavailable: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.name = 'DatabaseUnavailableError';
  }
}

/** A write refused for lack of room (disk or quota full) or because the database is read-only. */
export type StorageProblem = 'full' | 'read_only';

/**
 * What stops writes, from an error of either engine: SQLite's SQLITE_FULL and SQLITE_READONLY*,
 * PostgreSQL's disk_full (53100) and read_only_sql_transaction (25006, a standby), and the
 * system's ENOSPC and EROFS. Null for any other error. Nothing was written in either case.
 */
export function storageProblemOf(err: unknown): StorageProblem | null {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return null;
  if (code === 'SQLITE_FULL' || code === '53100' || code === 'ENOSPC') return 'full';
  if (code.startsWith('SQLITE_READONLY') || code === '25006' || code === 'EROFS') return 'read_only';
  return null;
}
