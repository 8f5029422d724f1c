/**
 * Per-request reads for one very heavy user (`npx tsx bench/heavy-user.ts [--interactions 200000]`):
 * a history page (first and second), and the serving read of the user's newest items, on SQLite
 * and on PostgreSQL, through the store's repositories. A request's cost must not grow with what
 * one client ingested for one user.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { DEFAULT_MIGRATIONS_DIR } from '../src/config.js';
import { openStore, type Store } from '../src/db/store.js';
import { arg } from './args.js';

const interactions = Number(arg('interactions', '200000'));
const PG = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const SCHEMA = `bench_heavy_${process.pid}`;

async function admin(sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: PG });
  await c.connect();
  await c.query(sql).finally(() => c.end());
}

async function seed(store: Store): Promise<void> {
  const half = interactions / 2;
  for (let b = 0; b < half; b += 5000) {
    const n = Math.min(5000, half - b);
    await store.ratings.upsert(Array.from({ length: n }, (_, k) => ({ userId: 'heavy', itemId: `i${b + k}`, rating: 3, timestamp: b + k })));
    await store.events.insert(Array.from({ length: n }, (_, k) => ({ userId: 'heavy', itemId: `i${(b + k) % 5000}`, type: 'click', value: 1, timestamp: b + k })));
  }
  // A few light users, so statistics describe more than one user.
  await store.ratings.upsert(Array.from({ length: 2000 }, (_, k) => ({ userId: `light${k % 200}`, itemId: `i${k}`, rating: 4, timestamp: k })));
}

async function time(runs: number, call: () => Promise<unknown>): Promise<number> {
  await call();
  const t = performance.now();
  for (let r = 0; r < runs; r++) await call();
  return (performance.now() - t) / runs;
}

const rows: { engine: string; historyMs: number; historyPage2Ms: number; servingMs: number }[] = [];
for (const engine of ['sqlite', 'postgres'] as const) {
  const dir = mkdtempSync(join(tmpdir(), 'recflow-heavy-'));
  if (engine === 'postgres') await admin(`CREATE SCHEMA ${SCHEMA}`);
  const url = new URL(PG);
  url.searchParams.set('options', `-c search_path=${SCHEMA}`);
  const store = await openStore(
    { databasePath: join(dir, 'heavy.db'), databaseUrl: engine === 'postgres' ? url.toString() : undefined, pgPoolSize: 2, sqliteBusyTimeoutMs: 5000, sqliteSynchronous: 'NORMAL', migrationsDir: DEFAULT_MIGRATIONS_DIR },
    { migrate: true },
  );
  try {
    await seed(store);
    if (engine === 'postgres') await admin(`ANALYZE ${SCHEMA}.ratings, ${SCHEMA}.events, ${SCHEMA}.items, ${SCHEMA}.users`);
    const first = (await store.history.page('heavy', 50, null))!;
    rows.push({
      engine,
      historyMs: await time(50, () => store.history.page('heavy', 50, null)),
      historyPage2Ms: await time(50, () => store.history.page('heavy', 50, first.next)),
      servingMs: await time(50, () => store.serving.userHistory('heavy', { click: 1 }, 500)),
    });
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
    if (engine === 'postgres') await admin(`DROP SCHEMA ${SCHEMA} CASCADE`);
  }
}

console.log(`one user with ${interactions.toLocaleString('en')} interactions (half ratings, half events), mean of 50 calls\n`);
console.log('| engine | history page 1 ms | history page 2 ms | serving read (500 newest) ms |');
console.log('|---|---|---|---|');
for (const r of rows) console.log(`| ${r.engine} | ${r.historyMs.toFixed(2)} | ${r.historyPage2Ms.toFixed(2)} | ${r.servingMs.toFixed(2)} |`);
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/heavy-user.json', JSON.stringify({ interactions, rows }, null, 2));
console.log(`\n${JSON.stringify({ interactions, rows })}`);
