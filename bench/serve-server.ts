/**
 * The server side of bench/serve.ts, run as a child process so the load generator does not
 * share its event loop: seeds a database with users, items and ratings, writes a GMF snapshot
 * with random 64-factor embeddings for the catalogue, starts the API with a trivial route as the
 * ceiling, and prints its port and the recall@10 of approximate retrieval against exact top-10.
 * The snapshots come from bench/snapshot-writer.ts in a child process (a worker's part).
 * On "swap" on stdin it registers and activates a second snapshot; "prepare" writes one and
 * "activate" then registers it and waits until it serves (the API's part alone); on "rss" it prints its RSS.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { tmpdir } from 'node:os';
import { createInterface } from 'node:readline';
import pino from 'pino';
import type { FastifyInstance } from 'fastify';
import { BENCH_TOKEN } from './args.js';
import { benchRatings } from './snapshot-writer.js';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { initBackend } from '../src/models/backend.js';
import type { Manifest } from '../src/serving/snapshots.js';
import { topN } from '../src/serving/top-n.js';
import { promotionPolicy } from '../src/train/promotion.js';

const items = Number(process.argv[2] ?? 1700);
const users = Number(process.argv[3] ?? 2000);
const cacheSize = process.argv[4] ?? '20000';
/** `default`: the default pipeline; `model-only`: the model with popularity behind it, as recflow served before the pipeline; `no-impressions`: the default pipeline with IMPRESSIONS=off. */
const pipelineMode = process.argv[5] ?? 'default';

const dir = mkdtempSync(join(tmpdir(), 'recflow-bench-'));
const configFile = join(dir, 'recflow.yaml');
writeFileSync(configFile, pipelineMode === 'model-only' ? 'pipeline:\n  blend: [model]\n  fallback: [popular]\n  ranker: { type: priority }\n' : '');
const config = loadConfig({
  RECFLOW_CONFIG: configFile,
  DATABASE_PATH: join(dir, 'bench.db'),
  MODEL_DIR: join(dir, 'models'),
  ADMIN_TOKEN: BENCH_TOKEN,
  LOG_LEVEL: 'silent',
  MODEL_POLL_MS: '200',
  RECOMMENDATION_CACHE_SIZE: cacheSize,
  PORT: '0',
  IMPRESSIONS: pipelineMode === 'no-impressions' ? 'off' : 'on',
});
const backend = await initBackend('auto');

type Snapshot = { dir: string; manifest: Manifest };

/** Writes a new version's snapshot in a child process, as a worker would: not registered, nothing serves it yet. */
async function prepare(app: FastifyInstance, seed: number): Promise<Snapshot> {
  const watermark = await app.services.database.training.watermark();
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/snapshot-writer.ts', String(items), String(users), String(seed), config.modelDir, String(config.annMinItems), JSON.stringify(watermark)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`snapshot writer exited with ${code}`);
  return JSON.parse(out) as Snapshot;
}

async function publish(app: FastifyInstance, seed: number): Promise<string> {
  return activate(app, await prepare(app, seed));
}

/** Registers a written snapshot and waits until this process serves it (the API's part of a swap). */
async function activate(app: FastifyInstance, snap: Snapshot): Promise<string> {
  await app.services.database.models.register(
    { model: 'gmf', version: snap.manifest.version, path: snap.dir, validHr10: 0.5, metrics: snap.manifest.metrics, manifest: snap.manifest, jobId: null },
    promotionPolicy({ tolerance: 1, force: true }),
    Date.now(),
  );
  await app.services.store.refresh();
  return snap.manifest.version;
}

const app = await buildApp(config, { logger: pino({ level: 'silent' }) });
app.get('/trivial', { config: { scope: 'read' } }, async () => ({ ok: true }));
await app.services.database.ratings.upsert(benchRatings(users, items, Date.now()));
// One category holding every tenth item, for the filtered scenario.
await app.services.database.catalogue.putItems(
  Array.from({ length: Math.ceil(items / 10) }, (_, k) => `i${k * 10}`).map((itemId) => ({ itemId, categories: ['c10'], hidden: false, availableFrom: null, availableUntil: null, labels: {} })),
  Date.now(),
);
const t0 = performance.now();
const first = await publish(app, 1);
const loadMs = performance.now() - t0;

/** recall@10 of what serving returns against the exact top-10 over every item, for 200 users. */
function recallAt10(): number {
  const index = app.services.store.current()!;
  let hits = 0;
  for (let u = 0; u < 200; u++) {
    const exact = new Set(topN(index.scoreUser(u), 10).map((s) => s.item));
    hits += index.recommend(u, 10, () => false).filter((s) => exact.has(s.item)).length;
  }
  return hits / 2000;
}
const recall = recallAt10();
const approximate = app.services.store.current()!.approximate;
await app.listen({ port: 0, host: '127.0.0.1' });
const lag = monitorEventLoopDelay({ resolution: 10 });
lag.enable();
const address = app.server.address();
const port = typeof address === 'object' && address ? address.port : 0;
process.stdout.write(`${JSON.stringify({ port, version: first, loadMs, backend: backend.name, recall, approximate })}\n`);

let prepared: Snapshot | null = null;
for await (const line of createInterface({ input: process.stdin })) {
  if (line === 'swap') {
    const s = performance.now();
    const version = await publish(app, 2 + Math.floor(Math.random() * 1000));
    process.stdout.write(`${JSON.stringify({ swapped: version, ms: performance.now() - s })}\n`);
  } else if (line === 'prepare') {
    prepared = await prepare(app, 2 + Math.floor(Math.random() * 1000));
    process.stdout.write(`${JSON.stringify({ prepared: prepared.manifest.version })}\n`);
  } else if (line === 'activate' && prepared) {
    const s = performance.now();
    const version = await activate(app, prepared);
    process.stdout.write(`${JSON.stringify({ activated: version, ms: performance.now() - s })}\n`);
  } else if (line === 'rss') {
    // Event-loop delay since the last report: the worst stall a request could have waited behind.
    process.stdout.write(`${JSON.stringify({ rss: process.memoryUsage().rss, lagMaxMs: lag.max / 1e6 })}\n`);
    lag.reset();
  } else if (line === 'quit') {
    await app.close();
    process.exit(0);
  }
}
