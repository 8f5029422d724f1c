/**
 * The server side of bench/serve.ts, run as a child process so the load generator does not
 * share its event loop: seeds a database with users, items and ratings, writes a GMF snapshot
 * with random 64-factor embeddings for the catalogue, starts the API with a trivial route as the
 * ceiling, and prints its port and the recall@10 of approximate retrieval against exact top-10.
 * Exact serving cost does not depend on the values; approximate recall does, so the factors get
 * a decaying spectrum (factor f scaled by 1/(f+1)^0.8) and row norms spread over 0.5–1.5, as
 * trained factors have, rather than isotropic noise (the worst case, reported separately).
 * On "swap" on stdin it registers and activates a second snapshot; "prepare" writes one and
 * "activate" then registers it and waits until it serves (the API's part alone); on "rss" it prints its RSS.
 */
import { join } from 'node:path';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { tmpdir } from 'node:os';
import { createInterface } from 'node:readline';
import pino from 'pino';
import { BENCH_TOKEN } from './args.js';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { Rng } from '../src/data/rng.js';
import { initBackend } from '../src/models/backend.js';
import { createModel } from '../src/models/registry.js';
import type { RecModel } from '../src/models/model.js';
import { writeSnapshot } from '../src/serving/snapshots.js';
import { topN } from '../src/serving/top-n.js';
import type { TrainResult } from '../src/train/trainer.js';
import type { FastifyInstance } from 'fastify';
import { promotionPolicy } from '../src/train/promotion.js';
import { InteractionsBuilder } from '../src/data/interactions.js';
import { indexForModel, recentPositives, scoreReference } from '../src/train/artifacts.js';

const items = Number(process.argv[2] ?? 1700);
const users = Number(process.argv[3] ?? 2000);
const cacheSize = process.argv[4] ?? '20000';
/** `default`: the default pipeline; `model-only`: the model with popularity behind it, as recflow served before the pipeline; `no-impressions`: the default pipeline with IMPRESSIONS=off. */
const pipelineMode = process.argv[5] ?? 'default';
const factors = 64;
const perUser = 20;

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
const userIds = Array.from({ length: users }, (_, u) => `u${u}`);
const itemIds = Array.from({ length: items }, (_, i) => `i${i}`);

function randomModel(seed: number): RecModel {
  const model = createModel('gmf', users, items, { factors, seed });
  const rng = new Rng(seed);
  const state = model.getState();
  const isotropic = process.env.BENCH_ISOTROPIC === '1';
  for (const a of Object.values(state.arrays)) {
    if (!(a instanceof Float32Array)) continue;
    let rowScale = 1;
    for (let k = 0; k < a.length; k++) {
      if (k % factors === 0) rowScale = 0.5 + rng.next();
      a[k] = rng.normal() * 0.3 * (isotropic ? 1 : rowScale / (1 + (k % factors)) ** 0.8);
    }
  }
  model.setState(state);
  return model;
}

async function publish(app: FastifyInstance, seed: number): Promise<string> {
  return activate(app, await prepare(app, seed));
}

type Snapshot = Awaited<ReturnType<typeof writeSnapshot>>;

/** Writes a new version's snapshot (a worker's part): not registered, nothing serves it yet. */
async function prepare(app: FastifyInstance, seed: number): Promise<Snapshot> {
  const model = randomModel(seed);
  const metrics = { 'HR@5': 0, 'NDCG@5': 0, 'HR@10': 0.5, 'NDCG@10': 0, 'HR@20': 0, 'NDCG@20': 0 };
  const result: TrainResult = {
    model: 'gmf',
    hyper: { ...model.hyper },
    backend,
    data: { users, items, pairs: users * perUser, train: 0, valid: 0, test: 0, split: 'loo', seed: 42 },
    fit: { epochs: 0, bestEpoch: 0, samples: 0, seconds: 0, samplesPerSec: 0 },
    valid: metrics,
    test: metrics,
    history: [],
    seconds: 0,
    peakRssBytes: 0,
  };
  const popularity = Float32Array.from({ length: items }, (_, i) => 1 / (i + 1));
  // What a retrain job adds for the pipeline: each user's recent items and the score reference.
  const recent = recentPositives(interactions);
  const index = await indexForModel(model, interactions, { recent, cooccurrence: null, reference: null, ranker: null }, config.annMinItems);
  const artifacts = { recent, cooccurrence: null, reference: scoreReference(index), ranker: null };
  // The indexes go with the snapshot, as a retrain job saves them: serving maps them, builds nothing.
  return writeSnapshot(config.modelDir, { model, result, userIds, itemIds, popularity, watermark: await app.services.database.training.watermark(), jobId: null, artifacts, retrieval: index.retrieval });
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
const rng = new Rng(1);
const ratings = [];
for (let u = 0; u < users; u++) for (let k = 0; k < perUser; k++) ratings.push({ userId: userIds[u], itemId: itemIds[rng.int(items)], rating: 1 + rng.int(5), timestamp: Date.now() - rng.int(1e9) });
await app.services.database.ratings.upsert(ratings);
const builder = new InteractionsBuilder();
userIds.forEach((id) => builder.userId(id));
itemIds.forEach((id) => builder.itemId(id));
for (const r of ratings) builder.add({ user: r.userId, item: r.itemId, rating: r.rating, ts: r.timestamp });
const interactions = builder.build(5);
// One category holding every tenth item, for the filtered scenario.
await app.services.database.catalogue.putItems(
  itemIds.filter((_, i) => i % 10 === 0).map((itemId) => ({ itemId, categories: ['c10'], hidden: false, availableFrom: null, availableUntil: null, labels: {} })),
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
