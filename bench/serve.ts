/**
 * Serving benchmark: autocannon against the API on loopback (the server in a child process),
 * for catalogues of 1,700 and 100,000 items with 64 factors: a trivial Fastify route as the
 * ceiling, recommendations, similar items, and recommendations while a new model version is
 * swapped in. Prints a table and writes bench/results/serve.json.
 *
 *   npx tsx bench/serve.ts [--seconds 10] [--connections 16] [--items 1700,100000] [--cache-scenario yes|no] [--pipelines default,model-only]
 *   --pipelines: the default pipeline, and/or `model-only` (the model with popularity behind it, as
 *   recflow answered before the pipeline) for the recommendation scenarios, and/or `no-impressions`
 *   (the default pipeline with IMPRESSIONS=off: what logging impressions costs).
 *   BENCH_ISOTROPIC=1 …   isotropic random factors: approximate retrieval's worst case
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import autocannon from 'autocannon';
import { arg } from './args.js';
import { load as loadFor, nextJson, startServer as startFor } from './serve-harness.js';


const seconds = Number(arg('seconds', '10'));
const connections = Number(arg('connections', '16'));
const catalogues = arg('items', '1700,100000').split(',').map(Number);
const users = 2000;

interface Row {
  items: number;
  scenario: string;
  requestsPerSec: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
}

const row = (items: number, scenario: string, r: autocannon.Result): Row => ({
  items,
  scenario,
  requestsPerSec: Math.round(r.requests.average),
  p50: r.latency.p50,
  p99: r.latency.p99,
  errors: r.errors,
  non2xx: r.non2xx,
});

const rows: Row[] = [];
const extra: Record<string, unknown>[] = [];
const pipelines = arg('pipelines', 'default').split(',');
const load = (port: number, path: (k: number) => string, duration = seconds, conns = connections) => loadFor(port, path, duration, conns);
const startServer = (items: number, cacheSize: number, pipeline = 'default') => startFor(items, users, cacheSize, pipeline);
for (const items of catalogues) {
  const randomUser = () => Math.floor(Math.random() * users);
  const randomItem = () => Math.floor(Math.random() * items);
  // The answer cache serves repeated (user, query) pairs; 2,000 users over a run repeat a lot, so
  // it gets its own scenario and every other one runs with the cache off (the compute path).
  if (arg('cache-scenario', 'yes') === 'yes') {
    const cached = await startServer(items, 20_000);
    rows.push(row(items, 'GET /users/:id/recommendations, answer cache on', await load(cached.port, () => `/users/u${randomUser()}/recommendations?limit=10`)));
    await cached.stop();
  }
  for (const pipeline of pipelines.filter((p) => p !== 'default')) {
    const other = await startServer(items, 0, pipeline);
    rows.push(row(items, `GET /users/:id/recommendations [${pipeline}]`, await load(other.port, () => `/users/u${randomUser()}/recommendations?limit=10`)));
    rows.push(row(items, `GET /users/:id/recommendations, 1 connection [${pipeline}]`, await load(other.port, () => `/users/u${randomUser()}/recommendations?limit=10`, seconds, 1)));
    other.child.stdin.write('rss\n');
    extra.push({ items, pipeline, lagMaxMs: (await nextJson(other.lines)).lagMaxMs });
    await other.stop();
  }
  const { child, lines, ready, port, stop } = await startServer(items, 0);
  rows.push(row(items, 'trivial route (ceiling)', await load(port, () => '/trivial')));
  rows.push(row(items, 'GET /users/:id/recommendations', await load(port, () => `/users/u${randomUser()}/recommendations?limit=10`)));
  rows.push(row(items, 'GET /items/:id/similar', await load(port, () => `/items/i${randomItem()}/similar?limit=10`)));
  const excluded = () => Array.from({ length: 200 }, () => `i${randomItem()}`).join(',');
  rows.push(row(items, 'recommendations, category (10% of items) + 200 excluded ids', await load(port, () => `/users/u${randomUser()}/recommendations?limit=10&category=c10&exclude=${excluded()}`)));
  rows.push(row(items, 'similar, category (10% of items) + 200 excluded ids', await load(port, () => `/items/i${randomItem()}/similar?limit=10&category=c10&exclude=${excluded()}`)));
  // Latency without queueing: one connection, one request at a time (the others show saturation,
  // where latency is mostly waiting behind the other 15 connections).
  rows.push(row(items, 'GET /users/:id/recommendations, 1 connection', await load(port, () => `/users/u${randomUser()}/recommendations?limit=10`, seconds, 1)));
  // Lag of the serving scenarios alone: the swap below writes and indexes a snapshot in the
  // server's own thread (standing in for a worker), which stalls its loop by construction.
  child.stdin.write('rss\n');
  const servingLag = (await nextJson(lines)).lagMaxMs as number;
  // Swap a new version in halfway through a run.
  const during = load(port, () => `/users/u${randomUser()}/recommendations?limit=10`);
  await new Promise((r) => setTimeout(r, (seconds * 1000) / 2));
  child.stdin.write('swap\n');
  const swapped = await nextJson(lines);
  rows.push(row(items, 'recommendations during a model swap', await during));
  child.stdin.write('rss\n');
  const report = await nextJson(lines);
  const rss = report.rss as number;
  extra.push({ items, pipeline: 'default', lagMaxMs: servingLag, swapLagMaxMs: report.lagMaxMs, initialLoadMs: Math.round(ready.loadMs as number), swapLoadMs: Math.round(swapped.ms as number), serverRssMb: Math.round(rss / 2 ** 20), backend: ready.backend, approximate: ready.approximate, recallAt10: ready.recall });
  await stop();
}

console.log(`autocannon: ${connections} connections, ${seconds} s per scenario, server and load generator in separate processes on 2 cores\n`);
console.log('| items | scenario | req/s | p50 ms | p99 ms | errors | non-2xx |');
console.log('|---|---|---|---|---|---|---|');
for (const r of rows) console.log(`| ${r.items.toLocaleString('en')} | ${r.scenario} | ${r.requestsPerSec.toLocaleString('en')} | ${r.p50} | ${r.p99} | ${r.errors} | ${r.non2xx} |`);
console.log('');
for (const e of extra.filter((x) => x.pipeline !== 'default')) console.log(`items ${e.items}, ${e.pipeline}: event-loop lag max ${Number(e.lagMaxMs).toFixed(1)} ms`);
for (const e of extra.filter((x) => x.pipeline === 'default')) console.log(`items ${e.items}: event-loop lag max ${Number(e.lagMaxMs).toFixed(1)} ms (during the swap, whose snapshot this process writes: ${Number(e.swapLagMaxMs).toFixed(1)} ms), ${e.approximate ? 'approximate (HNSW)' : 'exact'} top-N, recall@10 ${e.recallAt10}, model load ${e.initialLoadMs} ms, swap (write + load) ${e.swapLoadMs} ms, server RSS ${e.serverRssMb} MB, backend ${e.backend}`);
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/serve.json', JSON.stringify({ connections, seconds, rows, extra }, null, 2));
