/**
 * Cold start: a share of the items held out entirely (docs/evaluation.md), the hybrid model
 * ranking them for their users from their features alone, against a random order and a
 * features-only profile; and the hybrid's warm HR@10 against the same model without features.
 *
 *   npx tsx bench/cold.ts [--seeds 1,2,3] [--share 0.2]                       # synthetic, planted genres
 *   npx tsx bench/cold.ts --file ml-100k/u.data --items ml-100k/u.item --users ml-100k/u.user \
 *     [--labels title=text,year=categorical] [--user-labels gender,occupation]
 *
 * Prints a table and writes bench/results/cold.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { featuresSchema, type LabelSpec } from '../src/config/features.js';
import { readFeatureFile, type EntityFeatures } from '../src/data/feature-files.js';
import { loadInteractionsFile } from '../src/data/loaders.js';
import type { Interactions } from '../src/data/interactions.js';
import { ML100K_LIKE, syntheticInteractions, syntheticItemFeatures } from '../src/data/synthetic.js';
import { initBackend } from '../src/models/backend.js';
import { coldStartEvaluation, type ColdStartReport } from '../src/train/cold-start.js';
import { trainingThreads } from '../src/train/threads.js';
import { arg } from './args.js';

const file = arg('file', '');
const seeds = arg('seeds', '1,2,3').split(',').map(Number);
const share = Number(arg('share', '0.2'));
const epochs = Number(arg('epochs', '20'));
const backend = await initBackend('auto');
const data: Interactions = file ? (await loadInteractionsFile(file)).interactions : syntheticInteractions(ML100K_LIKE);
const items: Map<string, EntityFeatures> = file ? (await readFeatureFile(arg('items', ''))).features : syntheticItemFeatures(ML100K_LIKE);
const users: Map<string, EntityFeatures> = arg('users', '') ? (await readFeatureFile(arg('users', ''))).features : new Map();
const itemLabels = Object.fromEntries(arg('labels', file ? 'title=text' : '').split(',').filter(Boolean).map((p) => p.split('=') as [string, LabelSpec]));
const userLabels = Object.fromEntries(arg('user-labels', '').split(',').filter(Boolean).map((k) => [k, 'categorical' as const]));
const features = featuresSchema.parse({ items: { labels: itemLabels }, users: { labels: userLabels } });
const none = featuresSchema.parse({ items: { categories: false }, users: {} });
const facts = (useFeatures: boolean) => ({
  categoriesOf: (id: string) => (useFeatures ? (items.get(id)?.categories ?? []) : []),
  labelsOf: (id: string) => (useFeatures ? (items.get(id)?.labels ?? {}) : {}),
  userLabelsOf: (id: string) => (useFeatures ? (users.get(id)?.labels ?? {}) : {}),
});
const threads = trainingThreads('auto', data.user.length);

interface Run {
  seed: number;
  withFeatures: ColdStartReport;
  withoutFeatures: ColdStartReport;
}
const runs: Run[] = [];
for (const seed of seeds) {
  const request = { model: 'hybrid' as const, epochs, threads };
  const withFeatures = await coldStartEvaluation(data, request, backend, { share, seed, features, facts: facts(true) });
  const withoutFeatures = await coldStartEvaluation(data, request, backend, { share, seed, features: none, facts: facts(false) });
  runs.push({ seed, withFeatures, withoutFeatures });
  process.stderr.write(`seed ${seed}: cold HR@10 ${withFeatures.model?.['HR@10'].toFixed(4)} (random ${withFeatures.random['HR@10'].toFixed(4)}, features-only ${withFeatures.featuresOnly['HR@10'].toFixed(4)}); warm ${withFeatures.warm.test['HR@10'].toFixed(4)} against ${withoutFeatures.warm.test['HR@10'].toFixed(4)} without features\n`);
}

const mean = (xs: number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;
const sd = (xs: number[]): number => (xs.length < 2 ? 0 : Math.sqrt(xs.reduce((s, x) => s + (x - mean(xs)) ** 2, 0) / (xs.length - 1)));
const pm = (xs: number[]): string => `${mean(xs).toFixed(4)} ± ${sd(xs).toFixed(4)}`;
const cold = (r: Run) => r.withFeatures;
console.log(`${file || 'synthetic MovieLens-100K-shaped data, planted genres'}; ${Math.round(share * 100)}% of the items cold (${cold(runs[0]).coldItems}); ${cold(runs[0]).cases} cases; seeds ${seeds.join(', ')}\n`);
console.log('| ranking of the cold items | HR@10 | NDCG@10 |');
console.log('|---|---|---|');
console.log(`| hybrid, from features alone | ${pm(runs.map((r) => cold(r).model?.['HR@10'] ?? 0))} | ${pm(runs.map((r) => cold(r).model?.['NDCG@10'] ?? 0))} |`);
console.log(`| features-only profile (cosine) | ${pm(runs.map((r) => cold(r).featuresOnly['HR@10']))} | ${pm(runs.map((r) => cold(r).featuresOnly['NDCG@10']))} |`);
console.log(`| random | ${pm(runs.map((r) => cold(r).random['HR@10']))} | ${pm(runs.map((r) => cold(r).random['NDCG@10']))} |`);
console.log(`\nwarm test HR@10 (leave-one-out, 99 negatives): hybrid with features ${pm(runs.map((r) => r.withFeatures.warm.test['HR@10']))}, without ${pm(runs.map((r) => r.withoutFeatures.warm.test['HR@10']))}, paired difference ${pm(runs.map((r) => r.withFeatures.warm.test['HR@10'] - r.withoutFeatures.warm.test['HR@10']))}`);
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/cold.json', JSON.stringify({ file: file || 'synthetic', share, seeds, runs: runs.map((r) => ({ seed: r.seed, cold: { ...r.withFeatures, warm: r.withFeatures.warm.test }, warmWithout: r.withoutFeatures.warm.test })) }, null, 2));
