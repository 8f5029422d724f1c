import { buildInteractions, type Interactions, type RawInteraction } from './interactions.js';
import type { EntityFeatures } from './feature-files.js';
import { Rng } from './rng.js';

export interface SyntheticOptions {
  users: number;
  items: number;
  /** Mean share of the catalogue each user interacts with (MovieLens-100K: 0.063). */
  density: number;
  /** Rank of the planted user/item factors. */
  rank?: number;
  /** Zipf exponent of item popularity; 0 = no popularity skew. */
  popularitySkew?: number;
  /** σ of the log-normal number of interactions per user (0.7; MovieLens-20M's long tail is nearer 1.0). */
  activitySigma?: number;
  /** Fewest interactions a user has (3; MovieLens keeps users with at least 20). */
  minPerUser?: number;
  /** How much taste (the factors) outweighs popularity when a user picks items. */
  tasteWeight?: number;
  ratingMax?: number;
  seed?: number;
  /** First timestamp (ms); each user's interactions are spread over the following year. */
  start?: number;
}

const YEAR_MS = 365 * 24 * 3600 * 1000;

/** The hidden structure a synthetic data set was drawn from: what a simulated user truly likes. */
export interface PlantedTruth {
  rank: number;
  /** How much taste outweighs popularity (the generator's tasteWeight). */
  taste: number;
  itemFactors: Float64Array;
  /** users × rank. */
  userFactors: Float64Array;
  /** Per item, −skew · log(popularity rank + 1). */
  logPopularity: Float64Array;
}

/** A user's true appeal score for an item: what the generator ranks by before its noise. */
export function trueAppeal(truth: PlantedTruth, user: number, item: number): number {
  let dot = 0;
  for (let f = 0; f < truth.rank; f++) dot += truth.userFactors[user * truth.rank + f] * truth.itemFactors[item * truth.rank + f];
  return truth.taste * dot + truth.logPopularity[item];
}

/**
 * Interactions with planted structure, so tests can check that models learn: every user and
 * item has a hidden rank-r factor; a user picks items by taste (factor dot product) plus item
 * popularity (Zipf) plus Gumbel noise, i.e. a sample from a softmax without replacement, and
 * rates them on the integer scale by taste. A model that recovers the factors beats popularity.
 */
export function* generateSynthetic(options: SyntheticOptions, truth?: (t: PlantedTruth) => void): Generator<RawInteraction> {
  const { users, items, density } = options;
  const rank = options.rank ?? 8;
  const skew = options.popularitySkew ?? 0.8;
  const taste = options.tasteWeight ?? 2;
  const ratingMax = options.ratingMax ?? 5;
  const start = options.start ?? Date.UTC(2020, 0, 1);
  const rng = new Rng(options.seed ?? 1);
  // Factor entries ~ N(0, rank^-1/2): a user·item dot product then has unit variance for any rank.
  const scale = rank ** -0.25;
  const itemF = Float64Array.from({ length: items * rank }, () => rng.normal() * scale);
  const popOrder = rng.shuffle(Int32Array.from({ length: items }, (_, i) => i));
  const logPop = new Float64Array(items);
  popOrder.forEach((item, r) => (logPop[item] = -skew * Math.log(r + 1)));
  const sigma = options.activitySigma ?? 0.7;
  const minCount = options.minPerUser ?? 3;
  const meanCount = Math.max(minCount, density * items);
  const userFactors = truth ? new Float64Array(users * rank) : null;
  if (truth) truth({ rank, taste, itemFactors: itemF, userFactors: userFactors!, logPopularity: logPop });
  const userF = new Float64Array(rank);
  const score = new Float64Array(items);
  const order = Int32Array.from({ length: items }, (_, i) => i);
  for (let u = 0; u < users; u++) {
    for (let f = 0; f < rank; f++) userF[f] = rng.normal() * scale;
    userFactors?.set(userF, u * rank);
    // Log-normal activity: a few heavy users, many light ones (the mean kept at meanCount: e^(σ²/2) divided out).
    const count = Math.min(items - 1, Math.max(minCount, Math.round(meanCount * Math.exp(sigma * rng.normal() - (sigma * sigma) / 2))));
    for (let i = 0; i < items; i++) {
      let dot = 0;
      for (let f = 0; f < rank; f++) dot += userF[f] * itemF[i * rank + f];
      score[i] = taste * dot + logPop[i] - Math.log(-Math.log(rng.next() || 1e-12));
    }
    const picked = topIndices(score, order, count);
    const times = Array.from({ length: count }, () => start + Math.floor(rng.next() * YEAR_MS)).sort((a, b) => a - b);
    rng.shuffle(times);
    for (let k = 0; k < count; k++) {
      const i = picked[k];
      let dot = 0;
      for (let f = 0; f < rank; f++) dot += userF[f] * itemF[i * rank + f];
      const rating = Math.min(ratingMax, Math.max(1, Math.round(ratingMax * 0.6 + 1.2 * dot + 0.5 * rng.normal())));
      yield { user: `u${u + 1}`, item: `i${i + 1}`, rating, ts: times[k] };
    }
  }
}

/**
 * The k best-scored indices, best first (ties: the smaller index, as a stable sort of `order`
 * gives). A selection pass, then a sort of those k only: sorting all 27k items for each of 138k
 * users (the MovieLens-20M shape) was most of the generator's time.
 */
function topIndices(score: Float64Array, order: Int32Array, k: number): Int32Array {
  const idx = order.slice();
  const before = (a: number, b: number): boolean => score[a] > score[b] || (score[a] === score[b] && a < b);
  let lo = 0;
  let hi = idx.length - 1;
  while (lo < hi) {
    const pivot = idx[(lo + hi) >>> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (before(idx[i], pivot)) i++;
      while (before(pivot, idx[j])) j--;
      if (i <= j) {
        const t = idx[i];
        idx[i++] = idx[j];
        idx[j--] = t;
      }
    }
    if (k - 1 <= j) hi = j;
    else if (k - 1 >= i) lo = i;
    else break;
  }
  return idx.subarray(0, k).sort((a, b) => (before(a, b) ? -1 : before(b, a) ? 1 : 0));
}

/**
 * Item features planted in the same factors the interactions come from: an item's genre is the
 * largest of its first `genres` factor entries (a second genre when the runner-up is close), so
 * genres say something true but partial about who likes the item.
 */
export function syntheticItemFeatures(options: SyntheticOptions, genres = 8): Map<string, EntityFeatures> {
  const rank = options.rank ?? 8;
  const rng = new Rng(options.seed ?? 1);
  const scale = rank ** -0.25;
  // The generator's first draws are the item factors: the same seed gives the same factors here.
  const itemF = Float64Array.from({ length: options.items * rank }, () => rng.normal() * scale);
  const g = Math.min(genres, rank);
  const out = new Map<string, EntityFeatures>();
  for (let i = 0; i < options.items; i++) {
    const order = Array.from({ length: g }, (_, f) => f).sort((a, b) => itemF[i * rank + b] - itemF[i * rank + a]);
    const [best, second] = [itemF[i * rank + order[0]], itemF[i * rank + order[1]]];
    const categories = [`genre${order[0]}`, ...(g > 1 && second > 0.8 * best ? [`genre${order[1]}`] : [])];
    out.set(`i${i + 1}`, { categories, labels: { title: `Item ${i + 1}` } });
  }
  return out;
}

export function syntheticInteractions(options: SyntheticOptions): Interactions {
  return buildInteractions(generateSynthetic(options), options.ratingMax ?? 5);
}

/** Roughly MovieLens-100K's shape: 943 users, 1,682 items, 6.3% density. */
export const ML100K_LIKE: SyntheticOptions = { users: 943, items: 1682, density: 0.063 };
