/**
 * The recommendation pipeline under the leave-one-out protocol, against the models alone: each
 * model is trained per seed, the retrain job's pipeline step fits and judges the learned ranker
 * on the same split (its features from the default sources and the items' categories and labels),
 * and the pipeline's test HR@10 (the ranker's when kept, else the model's) is paired with the
 * model's by seed.
 *
 *   npx tsx bench/pipeline.ts [--models ials,ease] [--seeds 1,2,3]            # synthetic, planted genres
 *   npx tsx bench/pipeline.ts --file ml-100k/u.data --items ml-100k/u.item --users ml-100k/u.user --user-labels gender,occupation
 *   --labels no: no categories; --item-labels / --user-labels: label keys the ranker reads
 *
 * Prints a table and writes bench/results/pipeline.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { pipelineSchema } from '../src/config/pipeline.js';
import { readFeatureFile, type EntityFeatures } from '../src/data/feature-files.js';
import { loadInteractionsFile } from '../src/data/loaders.js';
import { nPairs, type Interactions } from '../src/data/interactions.js';
import { ML100K_LIKE, syntheticInteractions, syntheticItemFeatures } from '../src/data/synthetic.js';
import { initBackend } from '../src/models/backend.js';
import type { ModelName } from '../src/models/model.js';
import { PipelineJob } from '../src/train/pipeline-job.js';
import { trainingThreads } from '../src/train/threads.js';
import { trainModel } from '../src/train/trainer.js';
import { arg } from './args.js';

const file = arg('file', '');
const models = arg('models', 'ials,ease').split(',') as ModelName[];
const seeds = arg('seeds', '1,2,3').split(',').map(Number);
const noLabels = arg('labels', 'yes') === 'no';
const backend = await initBackend('auto');
const data: Interactions = file ? (await loadInteractionsFile(file)).interactions : syntheticInteractions(ML100K_LIKE);
const items: Map<string, EntityFeatures> = file ? (arg('items', '') ? (await readFeatureFile(arg('items', ''))).features : new Map()) : syntheticItemFeatures(ML100K_LIKE);
const users: Map<string, EntityFeatures> = arg('users', '') ? (await readFeatureFile(arg('users', ''))).features : new Map();
const facts = {
  categoriesOf: (id: string) => items.get(id)?.categories ?? [],
  labelsOf: (id: string) => items.get(id)?.labels ?? {},
  userLabelsOf: (id: string) => users.get(id)?.labels ?? {},
};
const labelList = (name: string): string[] => arg(name, '').split(',').filter(Boolean);
const pipeline = pipelineSchema.parse({ ranker: { categories: !noLabels, itemLabels: labelList('item-labels'), userLabels: labelList('user-labels') } });
const threads = trainingThreads('auto', nPairs(data));

interface Run {
  model: ModelName;
  seed: number;
  validModel: number;
  modelTest: number;
  pipelineTest: number;
  kept: boolean | null;
  rankerValid: number | null;
  seconds: number;
}

const runs: Run[] = [];
for (const seed of seeds) {
  for (const model of models) {
    const job = new PipelineJob(data, pipeline, facts, { annMinItems: 50_000 });
    const started = performance.now();
    const { result } = await trainModel(data, { model, seed, threads }, backend, { onEvaluated: job.onEvaluated });
    const r = job.report!;
    runs.push({ model, seed, validModel: result.valid['HR@10'], modelTest: result.test['HR@10'], pipelineTest: r.test['HR@10'], kept: r.kept, rankerValid: r.valid?.ranker['HR@10'] ?? null, seconds: (performance.now() - started) / 1000 });
    const last = runs[runs.length - 1];
    process.stderr.write(`seed ${seed} ${model}: model ${last.modelTest.toFixed(4)}, pipeline ${last.pipelineTest.toFixed(4)} (${r.reason})\n`);
  }
}

const mean = (xs: number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;
const sd = (xs: number[]): number => (xs.length < 2 ? 0 : Math.sqrt(xs.reduce((s, x) => s + (x - mean(xs)) ** 2, 0) / (xs.length - 1)));
const pm = (xs: number[]): string => `${mean(xs).toFixed(4)} ± ${sd(xs).toFixed(4)}`;

console.log(`${file || 'synthetic MovieLens-100K-shaped data, planted genres'}; ${users.size ? 'user labels; ' : ''}ranker features: source scores${noLabels ? '' : ', categories'}${pipeline.ranker.itemLabels.length ? `, item labels ${pipeline.ranker.itemLabels.join('/')}` : ''}${pipeline.ranker.userLabels.length ? `, user labels ${pipeline.ranker.userLabels.join('/')}` : ''}; seeds ${seeds.join(', ')}\n`);
console.log('| model | model test HR@10 | pipeline test HR@10 | paired gain | ranker kept | seconds |');
console.log('|---|---|---|---|---|---|');
for (const model of models) {
  const mine = runs.filter((r) => r.model === model);
  console.log(`| ${model} | ${pm(mine.map((r) => r.modelTest))} | ${pm(mine.map((r) => r.pipelineTest))} | ${pm(mine.map((r) => r.pipelineTest - r.modelTest))} | ${mine.filter((r) => r.kept).length}/${mine.length} | ${mean(mine.map((r) => r.seconds)).toFixed(1)} |`);
}
// What `auto` would serve per seed: the model with the best validation HR@10; the pipeline on top of it.
const picks = seeds.map((seed) => runs.filter((r) => r.seed === seed).sort((a, b) => b.validModel - a.validModel)[0]);
console.log(`\nbest single model by validation, per seed: ${picks.map((p) => `${p.model} ${p.modelTest.toFixed(4)}`).join(', ')}; its pipeline: ${picks.map((p) => p.pipelineTest.toFixed(4)).join(', ')}`);
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/pipeline.json', JSON.stringify({ file: file || 'synthetic', seeds, runs }, null, 2));
