/**
 * A training job's part of the serving benchmarks, in its own process: builds a GMF model with
 * random 64-factor embeddings for the catalogue (a decaying spectrum and spread row norms, as
 * trained factors have; BENCH_ISOTROPIC=1 for isotropic noise), its pipeline artifacts and
 * approximate-retrieval indexes, and writes the snapshot into MODEL_DIR, as a worker would. Run
 * apart from the API so the API's RSS and event loop show only what serving costs.
 *
 *   node --import tsx bench/snapshot-writer.ts <items> <users> <seed> <modelDir> <annMinItems> <watermark JSON>
 * prints {"dir": …, "manifest": …}.
 */
import { InteractionsBuilder, type Interactions } from '../src/data/interactions.js';
import { Rng } from '../src/data/rng.js';
import type { DataWatermark } from '../src/db/training-data-repository.js';
import { initBackend } from '../src/models/backend.js';
import type { RecModel } from '../src/models/model.js';
import { createModel } from '../src/models/registry.js';
import { writeSnapshot } from '../src/serving/snapshots.js';
import { indexForModel, recentPositives, scoreReference } from '../src/train/artifacts.js';
import type { TrainResult } from '../src/train/trainer.js';

export const FACTORS = 64;
export const PER_USER = 20;

export interface BenchRating {
  userId: string;
  itemId: string;
  rating: number;
  timestamp: number;
}

/** The ratings the benchmark database holds: PER_USER random items a user (the same for every process). */
export function benchRatings(users: number, items: number, now: number): BenchRating[] {
  const rng = new Rng(1);
  const ratings: BenchRating[] = [];
  for (let u = 0; u < users; u++) for (let k = 0; k < PER_USER; k++) ratings.push({ userId: `u${u}`, itemId: `i${rng.int(items)}`, rating: 1 + rng.int(5), timestamp: now - rng.int(1e9) });
  return ratings;
}

export function benchInteractions(users: number, items: number, ratings: readonly BenchRating[]): Interactions {
  const builder = new InteractionsBuilder();
  for (let u = 0; u < users; u++) builder.userId(`u${u}`);
  for (let i = 0; i < items; i++) builder.itemId(`i${i}`);
  for (const r of ratings) builder.add({ user: r.userId, item: r.itemId, rating: r.rating, ts: r.timestamp });
  return builder.build(5);
}

function randomModel(users: number, items: number, seed: number): RecModel {
  const model = createModel('gmf', users, items, { factors: FACTORS, seed });
  const rng = new Rng(seed);
  const state = model.getState();
  const isotropic = process.env.BENCH_ISOTROPIC === '1';
  for (const a of Object.values(state.arrays)) {
    if (!(a instanceof Float32Array)) continue;
    let rowScale = 1;
    for (let k = 0; k < a.length; k++) {
      if (k % FACTORS === 0) rowScale = 0.5 + rng.next();
      a[k] = rng.normal() * 0.3 * (isotropic ? 1 : rowScale / (1 + (k % FACTORS)) ** 0.8);
    }
  }
  model.setState(state);
  return model;
}

const [items, users, seed] = process.argv.slice(2, 5).map(Number);
const [modelDir, annMinItems, watermarkJson] = process.argv.slice(5, 8);
if (process.argv[1]?.endsWith('snapshot-writer.ts') && modelDir) {
  const backend = await initBackend('auto');
  const model = randomModel(users, items, seed);
  const metrics = { 'HR@5': 0, 'NDCG@5': 0, 'HR@10': 0.5, 'NDCG@10': 0, 'HR@20': 0, 'NDCG@20': 0 };
  const result: TrainResult = {
    model: 'gmf',
    hyper: { ...model.hyper },
    backend,
    data: { users, items, pairs: users * PER_USER, train: 0, valid: 0, test: 0, split: 'loo', seed: 42 },
    fit: { epochs: 0, bestEpoch: 0, samples: 0, seconds: 0, samplesPerSec: 0 },
    valid: metrics,
    test: metrics,
    history: [],
    seconds: 0,
    peakRssBytes: 0,
  };
  const watermark = JSON.parse(watermarkJson) as DataWatermark;
  const interactions = benchInteractions(users, items, benchRatings(users, items, watermark.lastIngestAt));
  const popularity = Float32Array.from({ length: items }, (_, i) => 1 / (i + 1));
  // What a retrain job adds for the pipeline: each user's recent items, the score reference, and the indexes.
  const recent = recentPositives(interactions);
  const index = await indexForModel(model, interactions, { recent, cooccurrence: null, reference: null, ranker: null }, Number(annMinItems));
  const artifacts = { recent, cooccurrence: null, reference: scoreReference(index), ranker: null };
  const ids = (n: number, p: string) => Array.from({ length: n }, (_, k) => `${p}${k}`);
  const snap = await writeSnapshot(modelDir, { model, result, userIds: ids(users, 'u'), itemIds: ids(items, 'i'), popularity, watermark, jobId: null, artifacts, retrieval: index.retrieval, itemGram: index.itemGram });
  process.stdout.write(`${JSON.stringify(snap)}\n`);
  process.exit(0);
}
