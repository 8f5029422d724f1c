/**
 * What one recomputation of the dashboard's data figures costs the reader thread
 * (`collectDataStats`: row counts, ingest per hour and per day, category sizes), on SQLite
 * databases of growing size where every row arrived within the last hour — the worst case for
 * the hourly series, which then reads them all. Prints a table and writes bench/results/stats.json.
 *
 *   npx tsx bench/stats.ts [--sizes 100000,1000000] [--runs 5]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { arg } from './args.js';
import { DEFAULT_MIGRATIONS_DIR } from '../src/config.js';
import { closeDb, openDb } from '../src/db/sqlite/connection.js';
import { migrate } from '../src/db/sqlite/migrate.js';
import { createCatalogueRepository } from '../src/db/sqlite/catalogue.js';
import { createEventsRepository } from '../src/db/sqlite/events.js';
import { createRatingsRepository } from '../src/db/sqlite/ratings.js';
import { createStatsRepository } from '../src/db/sqlite/stats.js';
import { collectDataStats } from '../src/db/stats-repository.js';

const sizes = arg('sizes', '100000,1000000').split(',').map(Number);
const runs = Number(arg('runs', '5'));

interface Row {
  ratings: number;
  events: number;
  items: number;
  medianMs: number;
  maxMs: number;
}

async function seed(db: ReturnType<typeof openDb>, ratings: number): Promise<{ events: number; items: number }> {
  const users = Math.ceil(ratings / 100);
  const items = Math.max(2000, Math.round(ratings / 250));
  const now = Date.now();
  const rate = createRatingsRepository(db);
  for (let k = 0; k < ratings; k += 10_000) {
    // 100 consecutive rows per user; 7919 is prime, so their items are distinct.
    await rate.upsert(Array.from({ length: Math.min(10_000, ratings - k) }, (_, j) => ({ userId: `u${Math.floor((k + j) / 100)}`, itemId: `i${((k + j) * 7919) % items}`, rating: 1 + ((k + j) % 5), timestamp: now })));
  }
  const events = Math.round(ratings / 10);
  const ev = createEventsRepository(db);
  for (let k = 0; k < events; k += 10_000) {
    await ev.insert(Array.from({ length: Math.min(10_000, events - k) }, (_, j) => ({ userId: `u${(k + j) % users}`, itemId: `i${(k + j) % items}`, type: 'click', value: 1, timestamp: now })));
  }
  const catalogue = createCatalogueRepository(db);
  for (let k = 0; k < items; k += 1000) {
    await catalogue.putItems(Array.from({ length: Math.min(1000, items - k) }, (_, j) => ({ itemId: `i${k + j}`, categories: [`c${(k + j) % 50}`], hidden: false, availableFrom: null, availableUntil: null, labels: {} })), now);
  }
  return { events, items };
}

const rows: Row[] = [];
for (const size of sizes) {
  const dir = mkdtempSync(join(tmpdir(), 'recflow-stats-'));
  const db = openDb(join(dir, 'stats.db'));
  migrate(db, DEFAULT_MIGRATIONS_DIR);
  const { events, items } = await seed(db, size);
  const repo = createStatsRepository(db);
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t = performance.now();
    const stats = await collectDataStats(repo, Date.now());
    times.push(performance.now() - t);
    if (stats.counts.ratings !== size) throw new Error(`counted ${stats.counts.ratings} ratings, seeded ${size}`);
  }
  times.sort((a, b) => a - b);
  rows.push({ ratings: size, events, items, medianMs: Math.round(times[Math.floor(runs / 2)]), maxMs: Math.round(times[runs - 1]) });
  closeDb(db);
  rmSync(dir, { recursive: true, force: true });
}

console.log('\n| ratings | events | items | median ms | max ms |\n|---|---|---|---|---|');
for (const r of rows) console.log(`| ${r.ratings.toLocaleString('en')} | ${r.events.toLocaleString('en')} | ${r.items.toLocaleString('en')} | ${r.medianMs} | ${r.maxMs} |`);
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/stats.json', JSON.stringify({ runs, rows }, null, 2));
