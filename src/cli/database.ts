import { loadConfig, POSTGRES_URL, type Config } from '../config.js';
import { openStore, type Store } from '../db/store.js';

/** `--db`: a SQLite file path, or a postgres:// URL; without it, DATABASE_URL or DATABASE_PATH. */
export const DB_OPTION_HELP = 'database: a SQLite file or a postgres:// URL (default: DATABASE_URL, else DATABASE_PATH)';

/** The configuration with `--db` applied over the environment. */
export function configWithDb(db: string | undefined): Config {
  if (!db) return loadConfig();
  const override = POSTGRES_URL.test(db) ? { DATABASE_URL: db } : { DATABASE_PATH: db, DATABASE_URL: undefined };
  return loadConfig({ ...process.env, ...override }, { discover: true });
}

/** Opens the configured database (migrated) for one command and closes it after. */
export async function withStore<T>(config: Config, run: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStore(config, { migrate: true, poolSize: 2 });
  try {
    return await run(store);
  } finally {
    await store.close();
  }
}
