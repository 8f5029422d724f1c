/**
 * Training benchmark: every model on MovieLens-100K-shaped synthetic data under the papers'
 * protocol, plus the naive tfjs path (tf.gather embeddings, autograd, dense Adam) the sparse
 * implementation replaces. Prints a table and writes JSON to bench/results/train.json.
 *
 *   npx tsx bench/train.ts [--models gmf,dmf] [--epochs 10] [--backend auto] [--refit yes]
 *   npx tsx bench/train.ts --paper-arch --epochs 2     # npm run bench:train -- --paper-arch
 *   npx tsx bench/train.ts --paper-arch --epochs 1 --interactions 1000000
 *
 * `--paper-arch` trains what the PyTorch comparison trains: NeuMF without pretraining, DMF with
 * the paper's 256-unit hidden layer and 4 negatives, EINMF with batch 1024 (its default).
 *
 * `--refit yes` also refits each model on all data afterwards, as retrain jobs do by default, and
 * reports what that adds to the job's time.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { syntheticInteractions, ML100K_LIKE } from '../src/data/synthetic.js';
import { initBackend } from '../src/models/backend.js';
import { MODEL_NAMES, type BackendChoice, type ModelName } from '../src/models/model.js';
import { trainModel } from '../src/train/trainer.js';
import { arg } from './args.js';


const paperArch = process.argv.includes('--paper-arch');
/** The architectures of the PyTorch reference run (PERFORMANCE-NOTES: same architecture on both sides). */
const PAPER_ARCH: Partial<Record<ModelName, Record<string, unknown>>> = {
  neumf: { pretrain: false },
  dmf: { layers: [256, 64], negatives: 4 },
  einmf: { batchSize: 1024 },
};
const models = arg('models', paperArch ? 'neumf,dmf,einmf' : MODEL_NAMES.join(',')).split(',') as ModelName[];
const epochs = Number(arg('epochs', '10'));
const refit = arg('refit', 'no') === 'yes';
/** `--threads 2`: train on two threads (Hogwild, TRAIN_THREADS); `--threads 1,2` runs each. */
const threadCounts = arg('threads', '1').split(',').map(Number);
const backend = await initBackend(arg('backend', 'auto') as BackendChoice);
/** `--interactions 1000000`: ML100K's density on more users and items (10,000 × 4,000 ≈ 1M at 2.5%). */
const interactions = Number(arg('interactions', '0'));
const data = syntheticInteractions(interactions > 0 ? { users: Math.round(interactions / 100), items: Math.max(1682, Math.round(interactions / 250)), density: 0.025 } : ML100K_LIKE);

/** The straightforward tfjs GMF step: gather from embedding variables, autograd, Adam over whole tables. */
function naiveSamplesPerSec(seconds = 10): number {
  const nU = data.userIds.length;
  const nI = data.itemIds.length;
  const P = tf.variable(tf.randomNormal([nU, 64], 0, 0.01));
  const Q = tf.variable(tf.randomNormal([nI, 64], 0, 0.01));
  const h = tf.variable(tf.randomNormal([64, 1], 0, 0.1));
  const opt = tf.train.adam(0.001);
  const batch = 256;
  let samples = 0;
  const t0 = performance.now();
  try {
    while (performance.now() - t0 < seconds * 1000) {
      const u = tf.tensor1d(Int32Array.from({ length: batch }, () => Math.floor(Math.random() * nU)), 'int32');
      const i = tf.tensor1d(Int32Array.from({ length: batch }, () => Math.floor(Math.random() * nI)), 'int32');
      const y = tf.tensor2d(Float32Array.from({ length: batch }, (_, k) => (k % 5 === 0 ? 1 : 0)), [batch, 1]);
      opt.minimize(() => tf.losses.sigmoidCrossEntropy(y, tf.matMul(tf.mul(tf.gather(P, u), tf.gather(Q, i)), h)) as tf.Scalar);
      tf.dispose([u, i, y]);
      samples += batch;
    }
  } catch {
    return Number.NaN; // wasm has no UnsortedSegmentSum kernel: the naive path cannot train at all
  } finally {
    tf.dispose([P, Q, h]);
  }
  return samples / ((performance.now() - t0) / 1000);
}

interface Row {
  model: string;
  threads: number;
  epochs: number;
  bestEpoch: number;
  samplesPerSec: number;
  secondsPerEpoch: number;
  hr10: number;
  ndcg10: number;
  peakRssMb: number;
  /** Whole trainModel call: fit, evaluation and (with --refit) the refit. */
  totalSeconds: number;
  refitSeconds: number | null;
}

const rows: Row[] = [];
for (const model of models) for (const threads of threadCounts) {
  const hyper = paperArch ? (PAPER_ARCH[model] ?? {}) : {};
  const { result } = await trainModel(data, { model, hyper, epochs, patience: epochs, refit, threads }, backend);
  const main = result.history.filter((h) => h.phase === 'train' || result.history.length === 1);
  const secondsPerEpoch = main.reduce((s, h) => s + h.seconds, 0) / Math.max(1, main.length);
  rows.push({
    model,
    threads,
    epochs: result.fit.epochs,
    bestEpoch: result.fit.bestEpoch,
    samplesPerSec: Math.round(result.fit.samplesPerSec),
    secondsPerEpoch: Number(secondsPerEpoch.toFixed(2)),
    hr10: Number(result.test['HR@10'].toFixed(4)),
    ndcg10: Number(result.test['NDCG@10'].toFixed(4)),
    peakRssMb: Math.round(result.peakRssBytes / 2 ** 20),
    totalSeconds: Number(result.seconds.toFixed(1)),
    refitSeconds: result.refit ? Number(result.refit.seconds.toFixed(1)) : null,
  });
  console.error(`${model}: done`, rows[rows.length - 1]);
}
const naive = arg('naive', paperArch ? 'no' : 'yes') === 'yes' ? naiveSamplesPerSec() : Number.NaN;

console.log(`backend ${backend.name} (${backend.reason}); data ${data.userIds.length} users × ${data.itemIds.length} items, ${data.user.length} interactions; ${epochs} epochs max\n`);
console.log(`| model | threads | epochs run | best epoch | samples/s | s/epoch | test HR@10 | test NDCG@10 | peak RSS MB | total s |${refit ? ' of which refit s |' : ''}`);
console.log(`|---|---|---|---|---|---|---|---|---|---|${refit ? '---|' : ''}`);
for (const r of rows) {
  const cells = [r.model, r.threads, r.epochs, r.bestEpoch, r.samplesPerSec.toLocaleString('en'), r.secondsPerEpoch, r.hr10, r.ndcg10, r.peakRssMb, r.totalSeconds, ...(refit ? [r.refitSeconds] : [])];
  console.log(`| ${cells.join(' | ')} |`);
}
console.log(`\nnaive tfjs GMF (tf.gather + autograd + dense Adam): ${Number.isNaN(naive) ? 'fails on this backend (no UnsortedSegmentSum)' : `${Math.round(naive).toLocaleString('en')} samples/s`}`);
mkdirSync('bench/results', { recursive: true });
writeFileSync(`bench/results/train${paperArch ? '-paper-arch' : ''}${interactions ? `-${interactions}` : ''}.json`, JSON.stringify({ backend, epochs, refit, paperArch, rows, naiveSamplesPerSec: naive }, null, 2));
