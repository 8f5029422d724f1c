import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_MIGRATIONS_DIR } from '../../src/config.js';
import { openStore, type Store, type StoreLocation } from '../../src/db/store.js';
import { tempDir } from '../helpers/app.js';
import { privateSchema } from '../helpers/postgres.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function location(migrationsDir = DEFAULT_MIGRATIONS_DIR): Promise<StoreLocation> {
  const { url, drop } = await privateSchema();
  cleanups.push(drop);
  return { databasePath: '', databaseUrl: url, pgPoolSize: 2, sqliteBusyTimeoutMs: 5000, sqliteSynchronous: 'NORMAL', migrationsDir };
}

async function ledger(url: string): Promise<number[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version')).rows.map((r) => r.version);
  } finally {
    await c.end();
  }
}

/** Every PostgreSQL migration the code ships, by number. */
const SHIPPED = fs.readdirSync(path.join(DEFAULT_MIGRATIONS_DIR, 'postgres')).filter((f) => /^\d+_.+\.sql$/.test(f)).map((f) => parseInt(f, 10)).sort((a, b) => a - b);

describe('PostgreSQL migrations', () => {
  it('replicas starting together apply each migration once (advisory lock)', async () => {
    const loc = await location();
    const stores: Store[] = await Promise.all(Array.from({ length: 6 }, () => openStore(loc, { migrate: true })));
    cleanups.push(() => Promise.all(stores.map((s) => s.close())).then(() => undefined));
    expect(await ledger(loc.databaseUrl!)).toEqual(SHIPPED);
    for (const s of stores) expect(await s.readiness()).toEqual([]);
  });

  it('refuses a database newer than the code, and a broken migration leaves nothing half-applied', async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    fs.cpSync(DEFAULT_MIGRATIONS_DIR, dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'postgres', '900_broken.sql'), 'CREATE TABLE half_done (x INT);\nSELECT no_such_function();\n');
    const loc = await location(dir);
    await expect(openStore(loc, { migrate: true })).rejects.toThrow(/900_broken.sql failed and was rolled back/);
    expect(await ledger(loc.databaseUrl!)).toEqual(SHIPPED);
    const store = await openStore(loc);
    cleanups.push(() => store.close());
    expect(await store.readiness()).toEqual([`migrations applied ${SHIPPED.length}/${SHIPPED.length + 1}`]);
    fs.rmSync(path.join(dir, 'postgres', '900_broken.sql'));
    fs.rmSync(path.join(dir, 'postgres', '001_init.sql'));
    await expect(openStore(loc, { migrate: true })).rejects.toThrow(/does not know/);
  });
});

describe('PostgreSQL id-cursor walks', () => {
  it('an export page waits for writes in flight, so a row that commits late with a lower id is not skipped', async () => {
    const loc = await location();
    const store = await openStore(loc, { migrate: true });
    cleanups.push(() => store.close());
    await store.ratings.upsert([{ userId: 'first', itemId: 'i', rating: 3, timestamp: 1 }]);
    const start = (await store.bulk.page('ratings', 0, 10))[0].cursor;

    // A writer in flight: it holds the id-allocation lock like every ingest transaction, and has
    // taken a rating id it has not committed yet.
    const late = new pg.Client({ connectionString: loc.databaseUrl });
    await late.connect();
    cleanups.push(() => late.end());
    await late.query('BEGIN');
    await late.query("SELECT pg_advisory_xact_lock_shared(hashtext('recflow.ids.' || current_schema()))");
    const user = (await late.query<{ id: number }>("INSERT INTO users (external_id, created_at) VALUES ('late', 2) RETURNING id")).rows[0].id;
    const item = (await late.query<{ id: number }>("SELECT id FROM items WHERE external_id = 'i'")).rows[0].id;
    await late.query('INSERT INTO ratings (user_id, item_id, value, ts, updated_at) VALUES ($1, $2, 4, 2, 2)', [user, item]);
    // Another batch commits after it, with a higher id.
    await store.ratings.upsert([{ userId: 'after', itemId: 'i', rating: 5, timestamp: 3 }]);

    const page = store.bulk.page('ratings', start, 10);
    const early = await Promise.race([page.then(() => 'answered'), new Promise((r) => setTimeout(() => r('waiting'), 300))]);
    expect(early).toBe('waiting');
    await late.query('COMMIT');
    expect((await page).map((r) => r.userId)).toEqual(['late', 'after']);
  });
});

