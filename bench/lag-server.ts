/**
 * The server side of bench/lag.ts, in its own process: seeds a SQLite database with
 * `interactions` synthetic ratings (plus one user with `heavy` ratings), starts the API in the
 * embedded setup (in-process queue) and measures its event-loop delay with
 * perf_hooks.monitorEventLoopDelay. Commands on stdin: "reset" starts a measurement window,
 * "lag" prints the window's p99 and max (ms) and peak RSS, "quit" closes.
 */
import { sqliteDb } from '../test/helpers/app.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import pino from 'pino';
import { BENCH_TOKEN } from './args.js';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { openDb, closeDb } from '../src/db/sqlite/connection.js';
import { migrate } from '../src/db/sqlite/migrate.js';
import { createRatingsRepository } from '../src/db/sqlite/ratings.js';
import { DEFAULT_MIGRATIONS_DIR } from '../src/config.js';
import { generateSynthetic } from '../src/data/synthetic.js';
import type { RatingRecord } from '../src/db/ingest-types.js';

const interactions = Number(process.argv[2] ?? 1_000_000);
const heavy = Number(process.argv[3] ?? 20_000);
const popularityRefreshMs = process.argv[4] ?? '30000';
const dir = mkdtempSync(join(tmpdir(), 'recflow-lag-'));
const env = {
  DATABASE_PATH: join(dir, 'lag.db'),
  MODEL_DIR: join(dir, 'models'),
  ADMIN_TOKEN: BENCH_TOKEN,
  LOG_LEVEL: 'warn',
  LOG_PRETTY: 'false',
  PORT: '0',
  POPULARITY_REFRESH_MS: popularityRefreshMs,
  // The dashboard's figures follow writes as often as popularity does here (default 5 s).
  STATS_REFRESH_MS: popularityRefreshMs,
  MAX_BATCH_SIZE: '10000',
};

/** Seeds before the API starts (the seeding itself is not what is measured). */
async function seed(): Promise<void> {
  const db = openDb(env.DATABASE_PATH);
  migrate(db, DEFAULT_MIGRATIONS_DIR);
  const repo = createRatingsRepository(db);
  const users = Math.round(interactions / 100);
  const items = Math.max(2000, Math.round(interactions / 250));
  let batch: RatingRecord[] = [];
  for (const r of generateSynthetic({ users, items, density: interactions / (users * items), seed: 1 })) {
    batch.push({ userId: r.user, itemId: r.item, rating: r.rating ?? 4, timestamp: r.ts });
    if (batch.length === 10_000) await repo.upsert(batch.splice(0));
  }
  for (let k = 0; k < heavy; k++) {
    batch.push({ userId: 'heavy', itemId: `i${1 + (k % items)}`, rating: 1 + (k % 5), timestamp: Date.now() - k * 1000 });
    if (batch.length === 10_000) await repo.upsert(batch.splice(0));
  }
  if (batch.length) await repo.upsert(batch);
  batch = [];
  closeDb(db);
}

await seed();
const app = await buildApp(loadConfig(env), { logger: pino({ level: 'warn' }) });
await app.listen({ port: 0, host: '127.0.0.1' });
const address = app.server.address();
const port = typeof address === 'object' && address ? address.port : 0;
const lag = monitorEventLoopDelay({ resolution: 1 });
lag.enable();
let peakRss = process.memoryUsage().rss;
setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100).unref();
process.stdout.write(`${JSON.stringify({ port, rows: sqliteDb(app).prepare('SELECT COUNT(*) FROM ratings').pluck().get() })}\n`);

for await (const line of createInterface({ input: process.stdin })) {
  if (line === 'reset') {
    lag.reset();
    peakRss = process.memoryUsage().rss;
    process.stdout.write('{}\n');
  } else if (line === 'lag') {
    const ms = (ns: number): number => Math.round(ns / 1e5) / 10;
    process.stdout.write(`${JSON.stringify({ p99: ms(lag.percentile(99)), max: ms(lag.max), peakRssMb: Math.round(peakRss / 2 ** 20) })}\n`);
  } else if (line === 'quit') {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  }
}
