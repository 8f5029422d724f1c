import { createBulkRepository } from './bulk.js';
import { createCatalogueRepository } from './catalogue.js';
import { checkpoint, closeDb, handOffCheckpoints, openDb, type Db } from './connection.js';
import { createEventsRepository } from './events.js';
import { createHistoryRepository } from './history.js';
import { createJobsRepository } from './jobs.js';
import { createKeysRepository } from './keys.js';
import { migrationReadiness, readMigrations } from '../migrations.js';
import { migrate } from './migrate.js';
import { createModelsRepository } from './models.js';
import { createOnlineRepository } from './online.js';
import { createRatingsRepository } from './ratings.js';
import { createServingRepository } from './serving.js';
import { createStatsRepository } from './stats.js';
import type { OpenStoreOptions, Store, StoreLocation } from '../store.js';
import { createTrainingDataRepository } from './training.js';

/** The SQLite store, with its connection for what only SQLite has (tests' direct checks, the bulk benchmarks). */
export interface SqliteStore extends Store {
  readonly backend: 'sqlite';
  readonly db: Db;
}

/** Repositories over one better-sqlite3 connection (a file in WAL mode: the API, the worker and threads each open their own). */
export function sqliteStore(db: Db, migrationsDir: string): SqliteStore {
  const expected = readMigrations(migrationsDir).length;
  const applied = db.prepare<[], number>('SELECT COUNT(*) FROM schema_migrations').pluck();
  return {
    backend: 'sqlite',
    db,
    ratings: createRatingsRepository(db),
    events: createEventsRepository(db),
    history: createHistoryRepository(db),
    serving: createServingRepository(db),
    catalogue: createCatalogueRepository(db),
    jobs: createJobsRepository(db),
    models: createModelsRepository(db),
    keys: createKeysRepository(db),
    bulk: createBulkRepository(db),
    stats: createStatsRepository(db),
    training: createTrainingDataRepository(db),
    online: createOnlineRepository(db),
    readiness: () => migrationReadiness(() => applied.get() ?? 0, expected),
    maintain: async () => checkpoint(db),
    // One file on one host: the worker's versions are found by polling, and only one API process writes.
    onChange: async () => async () => undefined,
    announce: async () => undefined,
    close: async () => closeDb(db),
  };
}

export async function openSqliteStore(location: StoreLocation, options: OpenStoreOptions = {}): Promise<SqliteStore> {
  const db = openDb(location.databasePath, { busyTimeoutMs: location.sqliteBusyTimeoutMs, synchronous: location.sqliteSynchronous, cacheMiB: location.sqliteCacheMb });
  try {
    if (options.migrate) migrate(db, location.migrationsDir);
    if (options.handOffCheckpoints) handOffCheckpoints(db);
    return sqliteStore(db, location.migrationsDir);
  } catch (err) {
    closeDb(db);
    throw err;
  }
}
