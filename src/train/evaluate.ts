import { csrHas, type Csr } from '../data/interactions.js';
import { sampleEvalCandidates } from '../data/negatives.js';
import { Rng } from '../data/rng.js';
import type { HeldOut } from '../data/split.js';
import type { PairScorer } from '../models/model.js';

export const CUTOFFS = [5, 10, 20] as const;

export interface RankingMetrics {
  'HR@5': number;
  'NDCG@5': number;
  'HR@10': number;
  'NDCG@10': number;
  'HR@20': number;
  'NDCG@20': number;
}

/** Held-out cases with their sampled candidates: row c = [held-out item, negatives…]. */
export interface EvalSet {
  readonly cases: HeldOut;
  readonly candidates: Int32Array;
  readonly width: number;
}

/**
 * Samples the negatives once per data set and seed (EVALUATION.md §2): `negatives` items each
 * user never interacted with in any split.
 */
export function buildEvalSet(cases: HeldOut, everSeen: Csr, negatives = 99, seed = 42): EvalSet {
  return { cases, candidates: sampleEvalCandidates(cases, everSeen, negatives, new Rng(seed)), width: negatives + 1 };
}

/**
 * HR@K and NDCG@K from 0-based ranks: HR@K is the share with rank < K, NDCG@K the mean of
 * 1 / log2(rank + 2) over hits (one relevant item, so IDCG = 1).
 */
export function metricsFromRanks(ranks: ArrayLike<number>): RankingMetrics {
  const n = ranks.length;
  const out: Record<string, number> = {};
  for (const k of CUTOFFS) {
    let hits = 0;
    let gain = 0;
    for (let c = 0; c < n; c++) {
      if (ranks[c] < k) {
        hits++;
        gain += 1 / Math.log2(ranks[c] + 2);
      }
    }
    out[`HR@${k}`] = n ? hits / n : 0;
    out[`NDCG@${k}`] = n ? gain / n : 0;
  }
  return out as unknown as RankingMetrics;
}

/** Rank of the held-out item in each candidate row: negatives scoring strictly higher (ties favour the held-out item). */
export function ranksOfCandidates(scores: Float32Array, width: number): Int32Array {
  const cases = scores.length / width;
  const ranks = new Int32Array(cases);
  for (let c = 0; c < cases; c++) {
    const target = scores[c * width];
    let rank = 0;
    for (let j = 1; j < width; j++) if (scores[c * width + j] > target) rank++;
    ranks[c] = rank;
  }
  return ranks;
}

/** Leave-one-out with sampled negatives: the held-out item ranked among `width` candidates. */
export function evaluateSampled(score: PairScorer, set: EvalSet): RankingMetrics {
  return metricsFromRanks(sampledRanks(score, set));
}

export function sampledRanks(score: PairScorer, set: EvalSet): Int32Array {
  const users = new Int32Array(set.candidates.length);
  for (let c = 0; c < set.cases.user.length; c++) users.fill(set.cases.user[c], c * set.width, (c + 1) * set.width);
  return ranksOfCandidates(score(users, set.candidates), set.width);
}

/**
 * Full ranking: the held-out item against every item the user never interacted with (in any
 * split). Much lower numbers than the sampled protocol, and not comparable with the papers.
 */
export function evaluateFullRanking(score: PairScorer, cases: HeldOut, everSeen: Csr): RankingMetrics {
  const nItems = everSeen.cols;
  const allItems = Int32Array.from({ length: nItems }, (_, i) => i);
  const users = new Int32Array(nItems);
  const ranks = new Int32Array(cases.user.length);
  for (let c = 0; c < cases.user.length; c++) {
    const u = cases.user[c];
    const target = cases.item[c];
    users.fill(u);
    const scores = score(users, allItems);
    const t = scores[target];
    let rank = 0;
    for (let i = 0; i < nItems; i++) {
      if (i !== target && scores[i] > t && !csrHas(everSeen, u, i)) rank++;
    }
    ranks[c] = rank;
  }
  return metricsFromRanks(ranks);
}
