/**
 * Model choice over several seeds: every `auto` candidate plus reference models, each trained under
 * the papers' protocol once per seed (the seed draws the evaluation negatives and the model's
 * initial weights). One HR@10 figure over 943 users has a standard error of about 0.016, so a
 * single run cannot rank models 0.01 apart; the means and the per-seed pairing here can.
 *
 *   npx tsx bench/models.ts --file ml-100k/u.data [--seeds 1,2,3] [--extra neumf,gmf] [--threads auto]
 *   npx tsx bench/models.ts                           # MovieLens-100K-shaped synthetic data
 *
 * Prints, per configuration, the mean ± standard deviation across seeds, then what `auto` would
 * pick on each seed (highest validation HR@10 among its candidates; the same rule, pickWinner) and
 * how far that pick's test HR@10 is from the best candidate's. JSON: bench/results/models.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadInteractionsFile } from '../src/data/loaders.js';
import { nPairs, type Interactions } from '../src/data/interactions.js';
import { syntheticInteractions, ML100K_LIKE } from '../src/data/synthetic.js';
import { initBackend } from '../src/models/backend.js';
import type { ModelName } from '../src/models/model.js';
import { AUTO_CANDIDATES, pickWinner, type AutoCandidate } from '../src/train/auto.js';
import type { RankingMetrics } from '../src/train/evaluate.js';
import { trainingThreads } from '../src/train/threads.js';
import { trainModel } from '../src/train/trainer.js';
import { arg } from './args.js';

const NEURAL: readonly ModelName[] = ['gmf', 'mlp', 'neumf', 'dmf', 'einmf'];

interface Run {
  config: string;
  model: ModelName;
  seed: number;
  inAuto: boolean;
  valid: RankingMetrics;
  test: RankingMetrics;
  seconds: number;
  bestEpoch: number;
}

const file = arg('file', '');
const seeds = arg('seeds', '1,2,3').split(',').map(Number);
const extras: AutoCandidate[] = arg('extra', 'neumf,gmf').split(',').filter(Boolean).map((m) => ({ model: m as ModelName, hyper: {} }));
const backend = await initBackend('auto');
const data: Interactions = file ? (await loadInteractionsFile(file)).interactions : syntheticInteractions(ML100K_LIKE);
const threadsArg = arg('threads', 'auto');
const threads = trainingThreads(threadsArg === 'auto' ? 'auto' : Number(threadsArg), nPairs(data));

const configName = (c: AutoCandidate): string => `${c.model} ${JSON.stringify(c.hyper)}`;
const mean = (xs: number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;
const sd = (xs: number[]): number => (xs.length < 2 ? 0 : Math.sqrt(xs.reduce((s, x) => s + (x - mean(xs)) ** 2, 0) / (xs.length - 1)));
const pm = (xs: number[]): string => `${mean(xs).toFixed(4)} ± ${sd(xs).toFixed(4)}`;

async function runOnce(candidate: AutoCandidate, seed: number, inAuto: boolean): Promise<Run> {
  const { result } = await trainModel(data, { model: candidate.model, hyper: candidate.hyper, split: 'loo', patience: 3, seed, threads }, backend);
  const run = { config: configName(candidate), model: candidate.model, seed, inAuto, valid: result.valid, test: result.test, seconds: result.seconds, bestEpoch: result.fit.bestEpoch };
  console.error(`seed ${seed}: ${run.config}: valid ${run.valid['HR@10'].toFixed(4)} test ${run.test['HR@10'].toFixed(4)} (${run.seconds.toFixed(1)} s)`);
  return run;
}

/** What `auto` would serve on one seed, and the best candidate's test HR@10 beside it. */
function autoOnSeed(runs: Run[], seed: number): { seed: number; picked: string; pickedTest: number; bestTest: number; bestConfig: string } {
  const candidates = runs.filter((r) => r.seed === seed && r.inAuto);
  const picked = candidates[pickWinner(candidates)];
  const best = candidates.reduce((b, r) => (r.test['HR@10'] > b.test['HR@10'] ? r : b));
  return { seed, picked: picked.config, pickedTest: picked.test['HR@10'], bestTest: best.test['HR@10'], bestConfig: best.config };
}

/** A model family's figure as `auto` would see it: per seed, its grid point with the best validation HR@10. */
function familyTests(runs: Run[], model: ModelName): number[] {
  return seeds.map((seed) => {
    const own = runs.filter((r) => r.seed === seed && r.model === model && r.inAuto);
    return own[pickWinner(own)].test['HR@10'];
  });
}

const runs: Run[] = [];
for (const seed of seeds) {
  for (const c of AUTO_CANDIDATES) runs.push(await runOnce(c, seed, true));
  for (const c of extras) runs.push(await runOnce(c, seed, false));
}

const configs = [...new Set(runs.map((r) => r.config))];
const summary = configs.map((config) => {
  const own = runs.filter((r) => r.config === config);
  const pick = (f: (r: Run) => number): number[] => own.map(f);
  return { config, model: own[0].model, inAuto: own[0].inAuto, validHr10: pick((r) => r.valid['HR@10']), testHr10: pick((r) => r.test['HR@10']), testNdcg10: pick((r) => r.test['NDCG@10']), seconds: pick((r) => r.seconds) };
});
summary.sort((a, b) => mean(b.testHr10) - mean(a.testHr10));

console.log(`backend ${backend.name}; ${file || 'synthetic ML100K_LIKE'}: ${data.userIds.length} users × ${data.itemIds.length} items, ${nPairs(data)} interactions; seeds ${seeds.join(', ')}; ${threads} training thread(s)\n`);
console.log('| configuration | in auto | valid HR@10 | test HR@10 | test NDCG@10 | seconds |');
console.log('|---|---|---|---|---|---|');
for (const s of summary) console.log(`| ${s.config} | ${s.inAuto ? 'yes' : 'reference'} | ${pm(s.validHr10)} | ${pm(s.testHr10)} | ${pm(s.testNdcg10)} | ${mean(s.seconds).toFixed(1)} |`);

const autoRows = seeds.map((seed) => autoOnSeed(runs, seed));
console.log('\n| seed | auto picks (validation) | its test HR@10 | best candidate on test | its test HR@10 | gap |');
console.log('|---|---|---|---|---|---|');
for (const a of autoRows) console.log(`| ${a.seed} | ${a.picked} | ${a.pickedTest.toFixed(4)} | ${a.bestConfig} | ${a.bestTest.toFixed(4)} | ${(a.bestTest - a.pickedTest).toFixed(4)} |`);

const bestNeural = summary.filter((s) => NEURAL.includes(s.model))[0];
const targets = (['ease', 'ials'] as const).map((model) => {
  const tests = familyTests(runs, model);
  const gaps = tests.map((t, k) => t - bestNeural.testHr10[k]);
  return { model, meanTest: mean(tests), gapToBestNeural: mean(gaps), gapSd: sd(gaps) };
});
console.log(`\nbest neural configuration by mean test HR@10: ${bestNeural.config} (${pm(bestNeural.testHr10)})`);
for (const t of targets) console.log(`${t.model} (grid point chosen by validation per seed): mean test HR@10 ${t.meanTest.toFixed(4)}, paired difference from the best neural ${t.gapToBestNeural.toFixed(4)} ± ${t.gapSd.toFixed(4)} (sd across seeds)`);
console.log(`auto: mean test HR@10 of its pick ${mean(autoRows.map((a) => a.pickedTest)).toFixed(4)}; mean gap to the best candidate ${mean(autoRows.map((a) => a.bestTest - a.pickedTest)).toFixed(4)}`);

mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/models.json', JSON.stringify({ backend: backend.name, file: file || null, seeds, threads, runs, summary, auto: autoRows, targets, bestNeural: bestNeural.config }, null, 2));
