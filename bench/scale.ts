/**
 * Scale-out benchmark (`npm run bench:scale`): in one run, the same load against
 *   1. one API process on SQLite,
 *   2. one API process on PostgreSQL,
 *   3. two API processes on PostgreSQL (the load split evenly between them),
 * each with a fresh database seeded with 100k ratings and a trained GMF (a BullMQ worker trains
 * it). Phases of `--seconds` each: ingest (POST /ratings, batches of 100) and recommendations
 * (GET /users/:id/recommendations, answer cache off: each reads the user's history from the
 * database). Reports batches/s and req/s, p50/p99, errors, the API
 * processes' event-loop lag p99 (their own histogram) and peak RSS.
 *
 *   npx tsx bench/scale.ts [--seconds 20] [--connections 8] [--setups sqlite,pg1,pg2]
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import pg from 'pg';
import { generateSynthetic } from '../src/data/synthetic.js';
import { exited, freePort, spawnEntry, waitForHttp } from '../test/helpers/processes.js';
import { arg, BENCH_TOKEN } from './args.js';

const seconds = Number(arg('seconds', '20'));
const connections = Number(arg('connections', '8'));
const PG = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const auth = { authorization: `Bearer ${BENCH_TOKEN}`, 'content-type': 'application/json' };

interface Deployment {
  name: string;
  bases: string[];
  apis: ChildProcess[];
  stop(): Promise<void>;
}

async function schema(name: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const admin = async (sql: string) => {
    const c = new pg.Client({ connectionString: PG });
    await c.connect();
    await c.query(sql).finally(() => c.end());
  };
  await admin(`DROP SCHEMA IF EXISTS ${name} CASCADE; CREATE SCHEMA ${name}`);
  const url = new URL(PG);
  url.searchParams.set('options', `-c search_path=${name}`);
  return { url: url.toString(), drop: () => admin(`DROP SCHEMA IF EXISTS ${name} CASCADE`) };
}

async function deploy(name: string, replicas: number, postgres: boolean): Promise<Deployment> {
  const dir = mkdtempSync(join(tmpdir(), 'recflow-scale-'));
  const db = postgres ? await schema(`bench_scale_${replicas}`) : null;
  const env = {
    ...(db ? { DATABASE_URL: db.url } : { DATABASE_PATH: join(dir, 'recflow.db') }),
    MODEL_DIR: join(dir, 'models'),
    DATA_DIR: dir,
    ADMIN_TOKEN: BENCH_TOKEN,
    REDIS_URL,
    QUEUE_NAME: `scale-${process.pid}-${replicas}-${postgres}`,
    MODEL_POLL_MS: '1000',
    MAX_BATCH_SIZE: '10000',
    RATE_LIMIT_REQUESTS: '0',
    RATE_LIMIT_BYTES: '0',
    LOG_LEVEL: process.env.BENCH_LOG ?? 'warn',
    // Every answer computed (history read from the database, scored): the answer cache would measure itself.
    RECOMMENDATION_CACHE_SIZE: '0',
  };
  const ports = await Promise.all(Array.from({ length: replicas }, () => freePort()));
  // Every process its own MODEL_DIR, as on separate hosts: a replica gets a version from the snapshot store.
  const apis = ports.map((port, k) => spawnEntry('src/main.ts', { ...env, MODEL_DIR: join(dir, `models-api${k}`), PORT: String(port) }));
  const worker = spawnEntry('src/worker.ts', { ...env, MODEL_DIR: join(dir, 'models-worker') });
  const bases = ports.map((p) => `http://127.0.0.1:${p}`);
  await Promise.all(bases.map((b) => waitForHttp(`${b}/readyz`, 60_000)));
  return {
    name,
    bases,
    apis,
    stop: async () => {
      for (const c of [...apis, worker]) c.kill('SIGTERM');
      await Promise.all([...apis, worker].map(exited));
      await db?.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Milliseconds from a version's registration (its createdAt) until each replica serves it (polled every 20 ms). */
async function untilServed(d: Deployment, version: string): Promise<number[]> {
  const versions = (await (await fetch(`${d.bases[0]}/admin/models`, { headers: auth })).json()) as { models: { version: string; createdAt: string }[] };
  const registered = Date.parse(versions.models.find((v) => v.version === version)!.createdAt);
  return Promise.all(
    d.bases.map(async (b) => {
      while (((await (await fetch(`${b}/admin/serving`, { headers: auth })).json()) as { loadedVersion: string | null }).loadedVersion !== version) await new Promise((r) => setTimeout(r, 20));
      return Date.now() - registered;
    }),
  );
}

async function seedAndTrain(d: Deployment): Promise<number[]> {
  const rows = [...generateSynthetic({ users: 943, items: 1682, density: 0.063, seed: 1 })].map((r) => ({ userId: r.user, itemId: r.item, rating: r.rating, timestamp: r.ts }));
  for (let k = 0; k < rows.length; k += 5000) {
    const res = await fetch(`${d.bases[0]}/ratings`, { method: 'POST', headers: auth, body: JSON.stringify({ ratings: rows.slice(k, k + 5000) }) });
    if (res.status !== 200) throw new Error(`seeding: ${res.status} ${await res.text()}`);
  }
  const { jobId } = (await (await fetch(`${d.bases[0]}/admin/retrain`, { method: 'POST', headers: auth, body: JSON.stringify({ model: 'gmf', epochs: 3 }) })).json()) as { jobId: string };
  for (;;) {
    const job = (await (await fetch(`${d.bases[0]}/admin/jobs/${jobId}`, { headers: auth })).json()) as { state: string; error?: string; result?: { version: string } };
    if (job.state === 'failed' || job.state === 'cancelled') throw new Error(`training ${job.state}: ${job.error}`);
    if (job.state === 'completed') return untilServed(d, job.result!.version);
    await new Promise((r) => setTimeout(r, 20));
  }
}

interface Phase {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  /** Share of both cores busy during the phase (all processes: APIs, PostgreSQL, the load generator). */
  cpuBusy: number;
}

/** Busy and total jiffies of the whole machine (/proc/stat). */
function cpuTimes(): { busy: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  return { busy: total - fields[3] - fields[4], total };
}

/** The same total connections, split across the deployment's replicas; results summed (rate) or worst (latency). */
async function phase(d: Deployment, request: (base: string, k: number) => autocannon.Request): Promise<Phase> {
  let seq = 0;
  const before = cpuTimes();
  const runs = await Promise.all(
    d.bases.map((base) =>
      autocannon({
        url: base,
        connections: Math.max(1, Math.round(connections / d.bases.length)),
        duration: seconds,
        headers: { authorization: `Bearer ${BENCH_TOKEN}` },
        requests: [{ ...request(base, 0), setupRequest: (req: autocannon.Request) => ({ ...req, ...request(base, seq++) }) } as autocannon.Request],
      }),
    ),
  );
  return {
    rps: runs.reduce((n, r) => n + r.requests.average, 0),
    p50: Math.max(...runs.map((r) => r.latency.p50)),
    p99: Math.max(...runs.map((r) => r.latency.p99)),
    errors: runs.reduce((n, r) => n + r.errors + r.non2xx, 0),
    cpuBusy: ((after) => (after.busy - before.busy) / (after.total - before.total))(cpuTimes()),
  };
}

// autocannon writes Content-Length into the headers object it is given: each request gets its own.
const ingest = (_base: string, k: number): autocannon.Request => ({
  method: 'POST',
  path: '/ratings',
  headers: { ...auth },
  body: JSON.stringify({ ratings: Array.from({ length: 100 }, (_, j) => ({ userId: `bench-u${k}`, itemId: `i${1 + ((k * 7 + j) % 1682)}`, rating: 1 + ((k + j) % 5) })) }),
});
const recommend = (_base: string, k: number): autocannon.Request => ({ method: 'GET', path: `/users/u${1 + ((k * 7919) % 943)}/recommendations?limit=10` });

/** The API process's own event-loop lag p99 (prom-client's histogram), in ms. */
async function lagP99(base: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`, { headers: auth })).text();
  const m = /^nodejs_eventloop_lag_p99_seconds\s+([\d.e+-]+)/m.exec(text);
  return m ? Number(m[1]) * 1000 : NaN;
}
const peakRssMb = (child: ChildProcess): number => Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

const ALL_SETUPS: Record<string, [string, number, boolean]> = {
  sqlite: ['SQLite, 1 API', 1, false],
  pg1: ['PostgreSQL, 1 API', 1, true],
  pg2: ['PostgreSQL, 2 APIs', 2, true],
};
const setups = arg('setups', 'sqlite,pg1,pg2').split(',').map((s) => ALL_SETUPS[s]);
const rows: Record<string, unknown>[] = [];
for (const [name, replicas, postgres] of setups) {
  const d = await deploy(name, replicas, postgres);
  try {
    const servedAfterMs = await seedAndTrain(d);
    const ingestResult = await phase(d, ingest);
    const recsResult = await phase(d, recommend);
    const lag = Math.max(...(await Promise.all(d.bases.map(lagP99))));
    const rss = Math.max(...d.apis.map(peakRssMb));
    rows.push({ setup: name, ingest: ingestResult, recommendations: recsResult, lagP99Ms: lag, peakRssMb: rss, servedAfterMs });
    console.error(`${name}: done`);
  } finally {
    await d.stop();
  }
}

console.log(`scale-out, ${seconds} s per phase, ${connections} connections in all, 2 cores shared by the API processes, PostgreSQL, Redis, a worker and the load generator\n`);
console.log('| setup | ingest batches/s (100 ratings) | p50 / p99 ms | CPU busy | recommendations req/s | p50 / p99 ms | CPU busy | errors | loop lag p99 ms | peak RSS MB (per API) | registration to serving ms (per API) |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|');
for (const r of rows as { setup: string; ingest: Phase; recommendations: Phase; lagP99Ms: number; peakRssMb: number; servedAfterMs: number[] }[]) {
  const pct = (x: number): string => `${Math.round(x * 100)}%`;
  console.log(`| ${r.setup} | ${Math.round(r.ingest.rps)} | ${r.ingest.p50} / ${r.ingest.p99} | ${pct(r.ingest.cpuBusy)} | ${Math.round(r.recommendations.rps)} | ${r.recommendations.p50} / ${r.recommendations.p99} | ${pct(r.recommendations.cpuBusy)} | ${r.ingest.errors + r.recommendations.errors} | ${r.lagP99Ms.toFixed(1)} | ${Math.round(r.peakRssMb)} | ${r.servedAfterMs.join(' / ')} |`);
}
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/scale.json', JSON.stringify({ seconds, connections, rows }, null, 2));
console.log(`\n${JSON.stringify({ seconds, connections, rows })}`);
