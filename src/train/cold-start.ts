import type { FeaturesConfig } from '../config/features.js';
import { InteractionsBuilder, nPairs, type Interactions } from '../data/interactions.js';
import { Rng } from '../data/rng.js';
import { withContentFeatures, type CatalogueFacts } from '../features/attach.js';
import { featuresOf, type Feature } from '../features/encode.js';
import type { BackendInfo } from '../models/backend.js';
import { HybridModel } from '../models/hybrid.js';
import { metricsFromRanks, type RankingMetrics } from './evaluate.js';
import { trainModel, type TrainHooks, type TrainRequest, type TrainResult } from './trainer.js';

export interface ColdStartOptions {
  /** Share of the items (with at least one interaction) held out entirely. */
  share: number;
  seed: number;
  features: FeaturesConfig;
  facts: CatalogueFacts;
  /** Sees the warm training data before the model does (tests check that no cold item is in it). */
  onWarmData?: (warm: Interactions) => void;
}

export interface ColdStartReport {
  coldItems: number;
  /** Held-out (user, cold item) pairs ranked. */
  cases: number;
  /** Each case's cold item among every cold item the user has no interaction with, by the model (hybrid: from features alone). */
  model: Pick<RankingMetrics, 'HR@10' | 'NDCG@10'> | null;
  /** The same ranking drawn at random: its expected metrics. */
  random: Pick<RankingMetrics, 'HR@10' | 'NDCG@10'>;
  /** The user's profile of their warm positives' features (cosine) against each cold item's. */
  featuresOnly: Pick<RankingMetrics, 'HR@10' | 'NDCG@10'>;
  /** The usual leave-one-out metrics of the same model on the warm items. */
  warm: TrainResult;
}

const pick = (m: RankingMetrics): Pick<RankingMetrics, 'HR@10' | 'NDCG@10'> => ({ 'HR@10': m['HR@10'], 'NDCG@10': m['NDCG@10'] });

/** Items with interactions, `share` of them drawn (seeded) to be cold. */
function drawCold(data: Interactions, share: number, seed: number): Set<number> {
  const seen = new Set<number>(data.item);
  const items = new Rng(seed).shuffle([...seen].sort((a, b) => a - b));
  return new Set(items.slice(0, Math.round(share * items.length)));
}

/** The data without any interaction of a cold item, re-indexed over the warm items (and the users who keep one). */
function warmPart(data: Interactions, cold: ReadonlySet<number>): Interactions {
  const b = new InteractionsBuilder();
  for (let k = 0; k < nPairs(data); k++) {
    if (cold.has(data.item[k])) continue;
    const rating = data.rating[k];
    b.add({ user: data.userIds[data.user[k]], item: data.itemIds[data.item[k]], ...(Number.isNaN(rating) ? {} : { rating }), weight: data.implicit[k], ts: data.ts[k] });
  }
  return b.build(data.ratingMax);
}

/**
 * 0-based rank of target's score among `scores`, ties broken at random: cold items with the same
 * features score the same, and ties favouring the target would credit a guess as a hit.
 */
function rankOf(target: number, scores: readonly number[], rng: Rng): number {
  let higher = 0;
  let equal = 0;
  for (const s of scores) {
    if (s > target) higher++;
    else if (s === target) equal++;
  }
  return higher + rng.int(equal + 1);
}

/** Expected HR@10 / NDCG@10 of a uniformly random order of m candidates. */
function randomExpectation(sizes: readonly number[]): Pick<RankingMetrics, 'HR@10' | 'NDCG@10'> {
  let hr = 0;
  let ndcg = 0;
  for (const m of sizes) {
    hr += Math.min(10, m) / m;
    for (let r = 0; r < Math.min(10, m); r++) ndcg += 1 / Math.log2(r + 2) / m;
  }
  return { 'HR@10': hr / sizes.length, 'NDCG@10': ndcg / sizes.length };
}

/** Cosine between sparse feature vectors given as name → weight maps. */
function cosine(a: ReadonlyMap<string, number>, b: ReadonlyMap<string, number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (const [k, v] of a) {
    na += v * v;
    dot += v * (b.get(k) ?? 0);
  }
  for (const v of b.values()) nb += v * v;
  return na && nb ? dot / Math.sqrt(na * nb) : 0;
}

/**
 * The cold-start protocol (docs/evaluation.md): a share of the items is held out entirely, none of
 * their interactions in training (nor in the feature vocabulary); the model is trained and
 * evaluated on the rest as usual; then each user's interactions with held-out items are ranked
 * among all held-out items the user has none with, by the model (from features alone), at random,
 * and by a features-only profile. Only models that read content features can rank cold items.
 */
export async function coldStartEvaluation(data: Interactions, request: TrainRequest, backend: BackendInfo, options: ColdStartOptions, hooks: TrainHooks = {}): Promise<ColdStartReport> {
  const cold = drawCold(data, options.share, options.seed);
  const warm = withContentFeatures(warmPart(data, cold), options.features, options.facts);
  options.onWarmData?.(warm);
  const { model, result } = await trainModel(warm, { ...request, seed: options.seed }, backend, hooks);
  const coldIds = [...cold].sort((a, b) => a - b).map((i) => data.itemIds[i]);
  const featureMap = (fs: readonly Feature[]): Map<string, number> => new Map(fs.map((f) => [f.name, f.weight]));
  const itemFeatures = (id: string): Feature[] => {
    try {
      return featuresOf(options.features, 'items', options.facts.categoriesOf(id), options.facts.labelsOf(id));
    } catch {
      return [];
    }
  };
  const coldFeatures = coldIds.map(itemFeatures);
  const coldMaps = coldFeatures.map(featureMap);
  const emb = model.embeddings();
  const coldVectors = model instanceof HybridModel && model.hasFeatures ? coldFeatures.map((f) => model.itemVectorFor(f)) : null;
  const warmUser = new Map(warm.userIds.map((id, u) => [id, u]));
  const warmItems = new Map<number, string[]>();
  for (let k = 0; k < nPairs(warm); k++) (warmItems.get(warm.user[k]) ?? warmItems.set(warm.user[k], []).get(warm.user[k])!).push(warm.itemIds[warm.item[k]]);
  const coldIndex = new Map(coldIds.map((id, c) => [id, c]));
  const coldOf = new Map<number, Set<number>>();
  for (let k = 0; k < nPairs(data); k++) {
    if (!cold.has(data.item[k])) continue;
    (coldOf.get(data.user[k]) ?? coldOf.set(data.user[k], new Set()).get(data.user[k])!).add(coldIndex.get(data.itemIds[data.item[k]])!);
  }
  const modelRanks: number[] = [];
  const profileRanks: number[] = [];
  const sizes: number[] = [];
  const d = emb.item.cols;
  const ties = new Rng(options.seed + 11);
  for (const [u, positives] of coldOf) {
    const wu = warmUser.get(data.userIds[u]);
    if (wu === undefined) continue;
    const candidates = coldIds.map((_, c) => c).filter((c) => !positives.has(c));
    const profile = new Map<string, number>();
    for (const id of warmItems.get(wu) ?? []) for (const f of itemFeatures(id)) profile.set(f.name, (profile.get(f.name) ?? 0) + f.weight);
    const byProfile = coldMaps.map((m) => cosine(profile, m));
    const byModel = coldVectors && emb.user
      ? coldVectors.map(({ vector, bias }) => {
          let s = bias;
          for (let f = 0; f < d; f++) s += emb.user!.data[wu * d + f] * vector[f];
          return s;
        })
      : null;
    for (const p of positives) {
      sizes.push(candidates.length + 1);
      profileRanks.push(rankOf(byProfile[p], candidates.map((c) => byProfile[c]), ties));
      if (byModel) modelRanks.push(rankOf(byModel[p], candidates.map((c) => byModel[c]), ties));
    }
  }
  return {
    coldItems: cold.size,
    cases: sizes.length,
    model: coldVectors && modelRanks.length ? pick(metricsFromRanks(modelRanks)) : null,
    random: randomExpectation(sizes),
    featuresOnly: pick(metricsFromRanks(profileRanks)),
    warm: result,
  };
}
