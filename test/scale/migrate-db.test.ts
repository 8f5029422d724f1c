import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { closeDb, openDb } from '../../src/db/sqlite/connection.js';
import { TABLES } from '../../src/db/tables.js';
import { api, startApp, tempDir, testConfig } from '../helpers/app.js';
import { privateSchema } from '../helpers/postgres.js';
import { ingestSynthetic, until, waitForJob } from '../helpers/training.js';

const run = promisify(execFile);
const cli = ['--import', 'tsx', 'src/cli.ts'];
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Every row of every table, in key order, as JSON-comparable values. */
function sqliteRows(file: string): Record<string, unknown[]> {
  const db = openDb(file, { readonly: true });
  try {
    return Object.fromEntries(TABLES.map((t) => [t.name, db.prepare(`SELECT ${t.columns.join(', ')} FROM ${t.name} ORDER BY ${t.key.join(', ')}`).all()]));
  } finally {
    closeDb(db);
  }
}

async function postgresRows(url: string): Promise<Record<string, unknown[]>> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  // BIGINT as numbers, as the store reads them.
  c.setTypeParser(20, Number);
  try {
    const out: Record<string, unknown[]> = {};
    for (const t of TABLES) out[t.name] = (await c.query(`SELECT ${t.columns.join(', ')} FROM ${t.name} ORDER BY ${t.key.map((k) => `${k} COLLATE "C"`.replace(/^(id|item_id|position) COLLATE "C"$/, '$1')).join(', ')}`)).rows;
    return out;
  } finally {
    await c.end();
  }
}

describe('recflow migrate-db (SQLite → PostgreSQL)', () => {
  it('keeps every row and id; the API then runs on PostgreSQL with the same data, model and keys', async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const config = testConfig(dir);
    const app = await startApp(config);
    await ingestSynthetic(app, 40, 60);
    await api(app).post('/events').send({ events: [{ userId: 'u1', itemId: 'i2', type: 'purchase', eventId: 'order-1' }] }).expect(200);
    await api(app).put('/items/i3').send({ categories: ['drama', 'classic'], labels: { year: '1950' }, hidden: true }).expect(200);
    await api(app).put('/users/u2').send({ labels: { plan: 'pro' } }).expect(200);
    const key = (await api(app).post('/admin/keys').send({ name: 'frontend', scopes: ['read'] })).body.key as string;
    const job = await waitForJob(app, (await api(app).post('/admin/retrain').send({ model: 'gmf', epochs: 1, hyper: { factors: 4 } })).body.jobId);
    expect(job.state).toBe('completed');
    await app.close();

    const { url, drop } = await privateSchema('mig');
    cleanups.push(drop);
    const { stdout } = await run('node', [...cli, 'migrate-db', '--from', `sqlite:${config.databasePath}`, '--to', url], { env: { ...process.env, LOG_LEVEL: 'silent' } });
    const copied = JSON.parse(stdout) as Record<string, number>;
    const before = sqliteRows(config.databasePath);
    expect(copied.ratings).toBe(before.ratings.length);
    const after = await postgresRows(url);
    for (const t of TABLES) expect(after[t.name], t.name).toEqual(before[t.name]);

    // A second copy into the same (now full) database is refused, and changes nothing.
    const again = run('node', [...cli, 'migrate-db', '--from', `sqlite:${config.databasePath}`, '--to', url], { env: { ...process.env, LOG_LEVEL: 'silent' } });
    await expect(again).rejects.toThrow(/already holds/);

    const moved = await startApp(testConfig(dir, { DATABASE_URL: url }));
    cleanups.push(() => moved.close());
    await until(() => moved.services.store.servingVersion === job.result?.version, 10_000, 'the copied model serves');
    expect((await api(moved, key).get('/users/u1/recommendations')).body).toMatchObject({ model: 'gmf', source: 'model' });
    expect((await api(moved).get('/items/i3')).body).toMatchObject({ hidden: true, categories: ['classic', 'drama'], labels: { year: '1950' } });
    // New rows get ids after the copied ones.
    await api(moved).post('/ratings').send({ userId: 'new-user', itemId: 'i1', rating: 5 }).expect(200);
    const newest = (await postgresRows(url)).ratings.at(-1) as { id: number };
    expect(newest.id).toBe((before.ratings.at(-1) as { id: number }).id + 1);
  }, 600_000);
});
