/**
 * Mixed-load benchmark (`npm run bench:load`): the API and a BullMQ worker as separate
 * processes, 60 s of concurrent ingest batches, recommendations and similar items while a
 * retrain runs and its model is swapped in. Reports throughput, p99 and errors per route, then
 * checks that every acknowledged rating and event is in the database exactly once.
 *
 *   REDIS_URL=redis://127.0.0.1:6379 npx tsx bench/load.ts [--seconds 60] [--db sqlite|postgres]
 *
 * `--db postgres` runs it on a private schema of BENCH_DATABASE_URL (default: the local server).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import pg from 'pg';
import { DEFAULT_MIGRATIONS_DIR } from '../src/config.js';
import { openStore } from '../src/db/store.js';
import { generateSynthetic } from '../src/data/synthetic.js';
import { exited, freePort, spawnEntry, waitForHttp } from '../test/helpers/processes.js';
import { arg } from './args.js';


const seconds = Number(arg('seconds', '60'));
const engine = arg('db', 'sqlite');
const token = 'bench-admin-token-0123456789';
const dir = mkdtempSync(join(tmpdir(), 'recflow-load-'));
const port = await freePort();
const schema = `bench_load_${process.pid}`;
const pgAdmin = async (sql: string): Promise<void> => {
  const c = new pg.Client({ connectionString: process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test' });
  await c.connect();
  await c.query(sql).finally(() => c.end());
};
const databaseUrl = (() => {
  if (engine !== 'postgres') return undefined;
  const url = new URL(process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test');
  url.searchParams.set('options', `-c search_path=${schema}`);
  return url.toString();
})();
if (databaseUrl) await pgAdmin(`CREATE SCHEMA ${schema}`);
const env = {
  ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
  DATABASE_PATH: join(dir, 'recflow.db'),
  MODEL_DIR: join(dir, 'models'),
  ADMIN_TOKEN: token,
  PORT: String(port),
  REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  QUEUE_NAME: `load-${process.pid}`,
  MODEL_POLL_MS: '500',
};
const api = spawnEntry('src/main.ts', env);
const worker = spawnEntry('src/worker.ts', env);
const base = `http://127.0.0.1:${port}`;
const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };

async function json(path: string, init?: RequestInit): Promise<Record<string, unknown>> {
  const res = await fetch(`${base}${path}`, init);
  return (await res.json()) as Record<string, unknown>;
}

async function trainAndWait(body: Record<string, unknown>): Promise<string> {
  const { jobId } = await json('/admin/retrain', { method: 'POST', headers: auth, body: JSON.stringify(body) });
  for (;;) {
    const job = await json(`/admin/jobs/${jobId as string}`, { headers: auth });
    if (job.state === 'completed') return (job.result as { version: string }).version;
    if (job.state === 'failed' || job.state === 'cancelled') throw new Error(`job ${job.state}: ${job.error as string}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

try {
  await waitForHttp(`${base}/healthz`, 60_000);
  const seed = [...generateSynthetic({ users: 943, items: 1682, density: 0.063, seed: 1 })].map((r) => ({ userId: r.user, itemId: r.item, rating: r.rating, timestamp: r.ts }));
  for (let k = 0; k < seed.length; k += 5000) {
    await fetch(`${base}/ratings`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ ratings: seed.slice(k, k + 5000) }) });
  }
  const first = await trainAndWait({ model: 'gmf', epochs: 3 });
  console.error(`seeded ${seed.length} ratings, first model ${first}`);

  const ackedRatings = new Map<string, number>();
  const ackedEvents = new Set<string>();
  let ratingSeq = 0;
  let eventSeq = 0;
  interface Ctx {
    ratings?: { userId: string; itemId: string; rating: number }[];
    events?: string[];
  }
  const run = (name: string, connections: number, request: autocannon.Request) =>
    autocannon({ url: base, connections, duration: seconds, headers: { authorization: `Bearer ${token}` }, requests: [request] }).then((r) => ({ name, r }));

  const ingestRatings = run('POST /ratings (batches of 50)', 4, {
    method: 'POST',
    path: '/ratings',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    setupRequest: (req: autocannon.Request, context: Ctx) => {
      const k = ratingSeq++;
      context.ratings = Array.from({ length: 50 }, (_, j) => ({ userId: `load-u${k}`, itemId: `i${1 + ((k * 7 + j) % 1682)}`, rating: 1 + ((k + j) % 5) }));
      return { ...req, body: JSON.stringify({ ratings: context.ratings }) };
    },
    onResponse: (status: number, _body: string, context: Ctx) => {
      if (status === 200) for (const r of context.ratings!) ackedRatings.set(`${r.userId}|${r.itemId}`, r.rating);
    },
  } as autocannon.Request);
  const ingestEvents = run('POST /events (batches of 20)', 2, {
    method: 'POST',
    path: '/events',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    setupRequest: (req: autocannon.Request, context: Ctx) => {
      const k = eventSeq++;
      const events = Array.from({ length: 20 }, (_, j) => ({ userId: `u${1 + ((k + j) % 943)}`, itemId: `i${1 + ((k * 13 + j) % 1682)}`, type: 'click', eventId: `load-e${k}-${j}` }));
      context.events = events.map((e) => e.eventId);
      return { ...req, body: JSON.stringify({ events }) };
    },
    onResponse: (status: number, _body: string, context: Ctx) => {
      if (status === 200) for (const id of context.events!) ackedEvents.add(id);
    },
  } as autocannon.Request);
  const recs = run('GET /users/:id/recommendations', 8, {
    method: 'GET',
    setupRequest: (req: autocannon.Request) => ({ ...req, path: `/users/u${1 + Math.floor(Math.random() * 943)}/recommendations?limit=10` }),
  } as autocannon.Request);
  const similar = run('GET /items/:id/similar', 4, {
    method: 'GET',
    setupRequest: (req: autocannon.Request) => ({ ...req, path: `/items/i${1 + Math.floor(Math.random() * 1682)}/similar?limit=10` }),
  } as autocannon.Request);
  // A retrain during the load; its version is swapped in while requests keep coming.
  await new Promise((r) => setTimeout(r, 5000));
  const retrain = trainAndWait({ model: 'gmf', epochs: 4, seed: 7, force: true });
  const results = await Promise.all([ingestRatings, ingestEvents, recs, similar]);
  const second = await retrain;

  // Checked through the same repositories the service uses, whichever engine holds the data.
  const store = await openStore({ databasePath: env.DATABASE_PATH, databaseUrl, pgPoolSize: 2, sqliteBusyTimeoutMs: 5000, sqliteSynchronous: 'NORMAL', migrationsDir: DEFAULT_MIGRATIONS_DIR });
  let missingRatings = 0;
  let missingEvents = 0;
  let duplicateEvents = 0;
  try {
    const { rows } = await store.training.read({});
    const stored = new Map(rows.filter((r) => r.rating !== undefined).map((r) => [`${r.user}|${r.item}`, r.rating]));
    for (const [key, rating] of ackedRatings) if (stored.get(key) !== rating) missingRatings++;
    const seen = new Map<string, number>();
    for (let after = 0; ; ) {
      const page = await store.bulk.page('events', after, 10_000);
      if (page.length === 0) break;
      for (const e of page) if (typeof e.eventId === 'string') seen.set(e.eventId, (seen.get(e.eventId) ?? 0) + 1);
      after = page[page.length - 1].cursor;
    }
    for (const id of ackedEvents) {
      const n = seen.get(id) ?? 0;
      if (n === 0) missingEvents++;
      if (n > 1) duplicateEvents++;
    }
  } finally {
    await store.close();
  }

  console.log(`mixed load on ${engine}, ${seconds} s, API + BullMQ worker + Redis on 2 cores; retrain started at 5 s, version ${second} swapped in during the run\n`);
  console.log('| route | connections | req/s | p50 ms | p99 ms | errors | non-2xx |');
  console.log('|---|---|---|---|---|---|---|');
  const conns: Record<string, number> = { 'POST /ratings (batches of 50)': 4, 'POST /events (batches of 20)': 2, 'GET /users/:id/recommendations': 8, 'GET /items/:id/similar': 4 };
  for (const { name, r } of results) console.log(`| ${name} | ${conns[name]} | ${Math.round(r.requests.average).toLocaleString('en')} | ${r.latency.p50} | ${r.latency.p99} | ${r.errors} | ${r.non2xx} |`);
  console.log(`\nacknowledged: ${ackedRatings.size} ratings, ${ackedEvents.size} events; missing ${missingRatings} ratings, ${missingEvents} events; duplicated events ${duplicateEvents}`);
  mkdirSync('bench/results', { recursive: true });
  writeFileSync(
    `bench/results/load-${engine}.json`,
    JSON.stringify({ engine, seconds, rows: results.map(({ name, r }) => ({ name, rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors, non2xx: r.non2xx })), ackedRatings: ackedRatings.size, ackedEvents: ackedEvents.size, missingRatings, missingEvents, duplicateEvents, swappedVersion: second }, null, 2),
  );
  const failed = results.some(({ r }) => r.errors > 0 || r.non2xx > 0) || missingRatings + missingEvents + duplicateEvents > 0;
  process.exitCode = failed ? 1 : 0;
} finally {
  api.kill('SIGTERM');
  worker.kill('SIGTERM');
  await Promise.all([exited(api), exited(worker)]);
  rmSync(dir, { recursive: true, force: true });
  if (databaseUrl) await pgAdmin(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
}
