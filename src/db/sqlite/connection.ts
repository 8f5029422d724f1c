import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';

export type Db = Database.Database;

export interface OpenDbOptions {
  /** Milliseconds a writer waits for a lock held by another connection (API vs worker). Default 5000. */
  busyTimeoutMs?: number;
  /** NORMAL survives a process crash in WAL mode; FULL also survives power loss. Default NORMAL. */
  synchronous?: 'NORMAL' | 'FULL';
  readonly?: boolean;
  /**
   * The page cache, MiB (SQLite's default is 2). At 20M ratings the four rating indexes span
   * gigabytes, and with 2 MiB an import fell from 37k rows/s over its first 2M rows to 16.7k
   * over its last, each insert reading index pages back; bounded per connection.
   */
  cacheMiB?: number;
}

/**
 * Opens (creating its folder if needed) a SQLite database in WAL mode, so readers never block the
 * single writer and the API and the worker can share one file.
 */
export function openDb(file: string, options: OpenDbOptions = {}): Db {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const db = new Database(file, { readonly: options.readonly ?? false });
  db.pragma(`busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? 5000)}`);
  if (!options.readonly) {
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${options.synchronous ?? 'NORMAL'}`);
  }
  db.pragma('foreign_keys = ON');
  db.pragma(`cache_size = ${-1024 * Math.trunc(options.cacheMiB ?? 64)}`);
  return db;
}

/** Closes a database handle; safe to call twice. */
export function closeDb(db: Db): void {
  if (db.open) db.close();
}

/**
 * Stops this connection from checkpointing the WAL when it commits (SQLite does that work, and
 * its fsync, inside the committing call): the API's connection hands it to a background thread
 * that calls {@link checkpoint}, so a commit on the event loop never pays for one.
 */
export function handOffCheckpoints(db: Db): void {
  db.pragma('wal_autocheckpoint = 0');
}

/** Copies committed WAL pages into the database without waiting for readers or writers. */
export function checkpoint(db: Db): void {
  db.pragma('wal_checkpoint(PASSIVE)');
}
