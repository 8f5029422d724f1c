import path from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { DEFAULT_MIGRATIONS_DIR } from '../../src/config.js';
import { openStore, type Store, type StoreLocation } from '../../src/db/store.js';
import { tempDir } from './app.js';
import { privateSchema } from './postgres.js';

export type Backend = Store['backend'];
/** The repository contract suites run once per engine. */
export const BACKENDS: readonly Backend[] = ['sqlite', 'postgres'];

export interface StoreFixture {
  location: StoreLocation;
  /** A migrated store; more can be opened on the same location (another process, in effect). */
  open(): Promise<Store>;
  /** Closes every store opened and removes the database. */
  cleanup(): Promise<void>;
}

/** An empty database of the given engine: a temp SQLite file, or a private PostgreSQL schema. */
export async function storeFixture(backend: Backend): Promise<StoreFixture> {
  const base = { pgPoolSize: 4, sqliteBusyTimeoutMs: 5000, sqliteSynchronous: 'NORMAL' as const, migrationsDir: DEFAULT_MIGRATIONS_DIR };
  const opened: Store[] = [];
  let location: StoreLocation;
  let remove: () => Promise<void>;
  if (backend === 'sqlite') {
    const { dir, cleanup } = tempDir('recflow-store-');
    location = { ...base, databasePath: path.join(dir, 'recflow.db'), databaseUrl: undefined };
    remove = async () => cleanup();
  } else {
    const { url, drop } = await privateSchema();
    location = { ...base, databasePath: '', databaseUrl: url };
    remove = drop;
  }
  return {
    location,
    open: async () => {
      const store = await openStore(location, { migrate: true });
      opened.push(store);
      return store;
    },
    cleanup: async () => {
      for (const s of opened.splice(0)) await s.close();
      await remove();
    },
  };
}

/** For each test of the calling block, a fresh database of `backend` with a store open on it. */
export function storePerTest(backend: Backend): { readonly fx: StoreFixture; readonly store: Store } {
  const current = {} as { fx: StoreFixture; store: Store };
  beforeEach(async () => {
    current.fx = await storeFixture(backend);
    current.store = await current.fx.open();
  });
  afterEach(() => current.fx.cleanup());
  return current;
}
