import type { PipelineConfig, RankerType } from '../config/pipeline.js';
import { csrHas, toCsr } from '../data/interactions.js';
import { Rng } from '../data/rng.js';
import type { DataSplit } from '../data/split.js';
import { FM_DEFAULTS, fitFm, scoreRow, type FeatureRow } from '../pipeline/ranker/fm.js';
import { bucketOf, featureRows, itemTokens, RANKER_BUCKETS, userTokens, type RankerLayout } from '../pipeline/ranker/features.js';
import type { LearnedRanker } from '../pipeline/ranker/rankers.js';
import { buildSources } from '../pipeline/sources/build.js';
import type { CatalogueFacts } from '../features/attach.js';
import type { ServingIndex } from '../serving/index.js';
import { metricsFromRanks, type EvalSet, type RankingMetrics } from './evaluate.js';
import { historiesOf, splitContext, splitLeaderboards } from './split-context.js';

/** Users whose validation case trains the ranker at most (bounds the job's time whatever the data). */
const MAX_FIT_USERS = 5000;

/** What the item and user labels are for the ranker (the catalogue's, read by the job). */
export type LabelFacts = CatalogueFacts;

export interface RankerReport {
  /** The ranker the pipeline will use for this version. */
  ranker: RankerType;
  /** learned: whether the fit ranker beat the model alone on the selection half of validation. */
  kept: boolean | null;
  reason: string;
  /** HR@10 / NDCG@10 on the selection half of the validation users: the model alone and the ranker. */
  valid: { users: number; model: { 'HR@10': number; 'NDCG@10': number }; ranker: { 'HR@10': number; 'NDCG@10': number } } | null;
  /** The pipeline's test metrics (the ranker's when kept, else the model's, which priority ranking equals under this protocol). */
  test: RankingMetrics;
  /** Validation positives the ranker was fit on. */
  fitUsers: number;
}

export interface RankerInputs {
  index: ServingIndex;
  split: DataSplit;
  validSet: EvalSet;
  testSet: EvalSet;
  pipeline: PipelineConfig;
  facts: LabelFacts;
  modelTest: RankingMetrics;
  seed: number;
}

/** Half of the validation users fit the ranker, the other half chooses: by a hash of the id, so the halves never change with the data's order. */
const fitsRanker = (userId: string): boolean => bucketOf(userId, 2) === 0;

/** Scores each row of an evaluation set by `score` and ranks its held-out item (first column) among them. */
function ranksOf(set: EvalSet, rows: readonly number[], score: (user: number, items: Int32Array) => Float32Array): Int32Array {
  const ranks = new Int32Array(rows.length);
  rows.forEach((c, r) => {
    const items = set.candidates.subarray(c * set.width, (c + 1) * set.width);
    const s = score(set.cases.user[c], items);
    let rank = 0;
    for (let j = 1; j < set.width; j++) if (s[j] > s[0]) rank++;
    ranks[r] = rank;
  });
  return ranks;
}

/**
 * Fits the learned ranker the way serving will use it, and says whether to keep it: features come
 * from the configured sources over a context built from the training split alone (the evaluated
 * model, leaderboards over the split, each user's training history), so no validation or test
 * interaction is ever a feature. Validation cases of half the users (by hash) are the positives,
 * with negatives drawn from items the user has in neither training nor validation; the other half
 * decides against the model alone; test metrics are reported, never used.
 */
export function fitRanker(inputs: RankerInputs): { state: LearnedRanker | null; report: RankerReport } {
  const { index, split, pipeline, facts, validSet, testSet } = inputs;
  const train = split.train;
  const book = splitLeaderboards(train, pipeline);
  const sources = buildSources(pipeline, book);
  const { categories, itemLabels, userLabels } = pipeline.ranker;
  const layout: RankerLayout = { sources: pipeline.blend.map((name) => ({ name, type: sources.get(name)!.config.type })), categories, itemLabels, userLabels, buckets: RANKER_BUCKETS };
  const histories = historiesOf(train);
  const contexts = new Map<number, ReturnType<typeof splitContext>>();
  const contextOf = (u: number): ReturnType<typeof splitContext> => {
    let ctx = contexts.get(u);
    if (!ctx) contexts.set(u, (ctx = splitContext(index, train, histories[u], u, facts.userLabelsOf(train.userIds[u]), train.ratingMax, book.computedAt)));
    return ctx;
  };
  const rowsFor = (u: number, items: ArrayLike<number>): FeatureRow[] => {
    const ctx = contextOf(u);
    const candidates = Array.from(items, (i) => ({ itemId: train.itemIds[i], dense: i }));
    const scores = layout.sources.map(({ name }) => sources.get(name)!.scoreItems(ctx, candidates));
    return featureRows(layout, scores, (k) => itemTokens(layout, facts.categoriesOf(candidates[k].itemId), facts.labelsOf(candidates[k].itemId)), userTokens(layout, ctx.userLabels), candidates.length);
  };
  const modelScore = (u: number, items: Int32Array): Float32Array => contextOf(u).scoring?.score(items) ?? new Float32Array(items.length);
  const cases = Array.from(validSet.cases.user.keys());
  const fitCases = cases.filter((c) => fitsRanker(train.userIds[validSet.cases.user[c]])).slice(0, MAX_FIT_USERS);
  const selectCases = cases.filter((c) => !fitsRanker(train.userIds[validSet.cases.user[c]]));
  const allTest = Array.from(testSet.cases.user.keys());
  const summary = (ranks: Int32Array) => {
    const m = metricsFromRanks(ranks);
    return { 'HR@10': m['HR@10'], 'NDCG@10': m['NDCG@10'] };
  };
  if (pipeline.ranker.type === 'priority' || (pipeline.ranker.type === 'learned' && (fitCases.length === 0 || selectCases.length === 0))) {
    const reason = pipeline.ranker.type === 'priority' ? 'priority ranking is configured' : 'too few validation users to fit and check a ranker';
    return { state: null, report: { ranker: 'priority', kept: pipeline.ranker.type === 'learned' ? false : null, reason, valid: null, test: inputs.modelTest, fitUsers: 0 } };
  }
  const score = (state: LearnedRanker['fm']) => (u: number, items: Int32Array) => Float32Array.from(rowsFor(u, items), (r) => scoreRow(state, r));
  if (pipeline.ranker.type === 'weighted') {
    const w = (name: string): number => pipeline.ranker.weights?.[name] ?? 1;
    const weighted = (u: number, items: Int32Array) => Float32Array.from(rowsFor(u, items), (r) => layout.sources.reduce((s, src, j) => s + w(src.name) * r.dense[j], 0));
    return { state: null, report: { ranker: 'weighted', kept: null, reason: 'weighted ranking is configured', valid: null, test: metricsFromRanks(ranksOf(testSet, allTest, weighted)), fitUsers: 0 } };
  }
  const fm = fitFm(trainingGroups(inputs, fitCases, rowsFor), layout.sources.length, layout.buckets, { ...FM_DEFAULTS, factors: pipeline.ranker.factors, epochs: pipeline.ranker.epochs, seed: inputs.seed });
  const byModel = summary(ranksOf(validSet, selectCases, modelScore));
  const byRanker = summary(ranksOf(validSet, selectCases, score(fm)));
  const kept = byRanker['HR@10'] > byModel['HR@10'] || (byRanker['HR@10'] === byModel['HR@10'] && byRanker['NDCG@10'] > byModel['NDCG@10']);
  const valid = { users: selectCases.length, model: byModel, ranker: byRanker };
  const reason = kept ? `validation HR@10 ${byRanker['HR@10'].toFixed(4)} against ${byModel['HR@10'].toFixed(4)} for the model alone` : `not kept: validation HR@10 ${byRanker['HR@10'].toFixed(4)} does not beat the model alone (${byModel['HR@10'].toFixed(4)})`;
  const test = kept ? metricsFromRanks(ranksOf(testSet, allTest, score(fm))) : inputs.modelTest;
  return { state: kept ? { kind: 'learned', layout, fm } : null, report: { ranker: kept ? 'learned' : 'priority', kept, reason, valid, test, fitUsers: fitCases.length } };
}

/** Per fit case: its validation item first, then `negatives` items the user has in neither training nor validation. */
function trainingGroups(inputs: RankerInputs, fitCases: readonly number[], rowsFor: (u: number, items: ArrayLike<number>) => FeatureRow[]): FeatureRow[][] {
  const { split, validSet, pipeline } = inputs;
  const known = toCsr(split.train, 'byUser');
  const nItems = known.cols;
  const rng = new Rng(inputs.seed + 7);
  const groups: FeatureRow[][] = [];
  for (const c of fitCases) {
    const u = validSet.cases.user[c];
    const positive = validSet.cases.item[c];
    const items = [positive];
    for (let tries = 0; items.length <= pipeline.ranker.negatives && tries < 20 * pipeline.ranker.negatives; tries++) {
      const j = rng.int(nItems);
      if (j !== positive && !csrHas(known, u, j) && !items.includes(j)) items.push(j);
    }
    groups.push(rowsFor(u, items));
  }
  return groups;
}
