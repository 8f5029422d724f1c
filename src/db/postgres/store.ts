import type { OpenStoreOptions, Store, StoreLocation } from '../store.js';
import { postgresBulk } from './bulk.js';
import { postgresCatalogue } from './catalogue.js';
import { postgresEvents, postgresRatings } from './ingest.js';
import { postgresJobs } from './jobs.js';
import { postgresKeys } from './keys.js';
import { expectedPostgresMigrations, migratePostgres } from './migrate.js';
import { postgresModels } from './models.js';
import { postgresOnline } from './online.js';
import { announcer, listenForChanges, newOrigin } from './notify.js';
import { migrationReadiness } from '../migrations.js';
import { countOf, createPool, row } from './pool.js';
import { postgresHistory, postgresServing, postgresStats } from './reads.js';
import { postgresTraining } from './training.js';
import { postgresSnapshotBlobs } from './snapshot-blobs.js';

/**
 * The repositories over a PostgreSQL pool: the store for several API and worker processes on
 * several hosts. Writes are transactions on one pooled client; activations and users' new
 * interactions are announced with NOTIFY, so every replica reloads and drops stale answers at once.
 */
export async function openPostgresStore(location: StoreLocation, options: OpenStoreOptions = {}): Promise<Store> {
  const url = location.databaseUrl!;
  const pool = createPool(url, options.poolSize ?? location.pgPoolSize);
  try {
    if (options.migrate) await migratePostgres(pool, location.migrationsDir);
    const schema = (await row<{ schema: string }>(pool, 'SELECT current_schema() AS schema'))!.schema;
    const expected = expectedPostgresMigrations(location.migrationsDir);
    const origin = newOrigin();
    return {
      backend: 'postgres',
      ratings: postgresRatings(pool),
      events: postgresEvents(pool),
      history: postgresHistory(pool),
      serving: postgresServing(pool),
      catalogue: postgresCatalogue(pool),
      jobs: postgresJobs(pool),
      models: postgresModels(pool),
      keys: postgresKeys(pool),
      bulk: postgresBulk(pool),
      stats: postgresStats(pool),
      training: postgresTraining(pool),
      online: postgresOnline(pool),
      snapshotBlobs: postgresSnapshotBlobs(pool),
      readiness: () => migrationReadiness(() => countOf(pool, 'schema_migrations'), expected),
      // PostgreSQL checkpoints by itself.
      maintain: async () => undefined,
      onChange: (listener) => listenForChanges(url, schema, origin, listener),
      announce: announcer(pool, schema, origin),
      close: async () => {
        if (!pool.ended) await pool.end();
      },
    };
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw err;
  }
}
