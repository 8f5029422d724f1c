import type { SnapshotBlobRepository } from './snapshot-blobs-repository.js';
import type { BulkRepository } from './bulk-repository.js';
import type { CatalogueRepository } from './catalogue-repository.js';
import type { EventsRepository } from './events-repository.js';
import type { HistoryRepository } from './history-repository.js';
import type { JobsRepository } from './jobs-repository.js';
import type { ApiKeyRepository } from './keys-repository.js';
import type { ModelsRepository } from './models-repository.js';
import type { OnlineRepository } from './online-repository.js';
import type { RatingsRepository } from './ratings-repository.js';
import type { ServingRepository } from './serving-repository.js';
import type { StatsRepository } from './stats-repository.js';
import type { TrainingDataRepository } from './training-data-repository.js';

/**
 * Every repository of one database, whichever engine holds it. Callers only see these async
 * interfaces; SQLite (embedded, one host) and PostgreSQL (shared by many processes) each
 * implement all of them.
 */
export interface Store {
  readonly backend: 'sqlite' | 'postgres';
  readonly ratings: RatingsRepository;
  readonly events: EventsRepository;
  readonly history: HistoryRepository;
  readonly serving: ServingRepository;
  readonly catalogue: CatalogueRepository;
  readonly jobs: JobsRepository;
  readonly models: ModelsRepository;
  readonly keys: ApiKeyRepository;
  readonly bulk: BulkRepository;
  readonly stats: StatsRepository;
  readonly training: TrainingDataRepository;
  /** Impressions, attributed feedback and experiments (online evaluation). */
  readonly online: OnlineRepository;
  /** Snapshot files in the database, where the engine is shared by hosts (PostgreSQL); absent on SQLite. */
  readonly snapshotBlobs?: SnapshotBlobRepository;
  /** Why the database cannot serve yet (unreachable, migrations missing); empty when it can. */
  readiness(): Promise<string[]>;
  /** Periodic upkeep a background thread runs for the API's connection (SQLite: WAL checkpoints). */
  maintain(): Promise<void>;
  /**
   * Calls `listener` for changes other processes announce: what serves (an activation, a promotion
   * or a pin), or users whose interactions changed (their cached answers are stale). Returns how to
   * stop. Where the engine cannot notify (SQLite: one file, one host), it never calls, and polling
   * and cache TTLs remain the signals.
   */
  onChange(listener: (change: StoreChange) => void): Promise<() => Promise<void>>;
  /** Tells every other process listening on this database. */
  announce(change: StoreChange): Promise<void>;
  close(): Promise<void>;
}

/** What one process tells the others through the database; `users: 'all'` when there were too many to list. */
export type StoreChange = { kind: 'serving' } | { kind: 'users'; users: readonly string[] | 'all' };

/** Where the database is and how to connect: plain data, so worker threads can open their own store. */
export interface StoreLocation {
  databasePath: string;
  databaseUrl: string | undefined;
  pgPoolSize: number;
  sqliteBusyTimeoutMs: number;
  sqliteSynchronous: 'NORMAL' | 'FULL';
  /** SQLite's page cache per connection, MiB (default 64). */
  sqliteCacheMb?: number;
  migrationsDir: string;
}

export interface OpenStoreOptions {
  /** Apply pending migrations first (the API and the worker do; threads open an already migrated one). */
  migrate?: boolean;
  /** The API's SQLite connection leaves WAL checkpoints to a background thread calling {@link Store.maintain}. */
  handOffCheckpoints?: boolean;
  /** Connections in this store's pool (PostgreSQL); defaults to the location's. */
  poolSize?: number;
}

/** The engine a location selects: PostgreSQL when DATABASE_URL is set, else SQLite at DATABASE_PATH. */
export function backendOf(location: StoreLocation): Store['backend'] {
  return location.databaseUrl ? 'postgres' : 'sqlite';
}

/** Opens the store a location names, loading only that engine's driver. */
export async function openStore(location: StoreLocation, options: OpenStoreOptions = {}): Promise<Store> {
  if (backendOf(location) === 'postgres') {
    const { openPostgresStore } = await import('./postgres/store.js');
    return openPostgresStore(location, options);
  }
  const { openSqliteStore } = await import('./sqlite/store.js');
  return openSqliteStore(location, options);
}
