import type { UserItem } from '../db/serving-repository.js';
import { DmfModel } from '../models/dmf.js';
import { EinmfModel } from '../models/einmf.js';
import { HybridModel } from '../models/hybrid.js';
import type { NamedFeatures } from '../models/hybrid-features.js';
import { IalsModel } from '../models/ials.js';
import { isItemBased } from '../models/model.js';
import { foldInUser } from './fold-in.js';
import type { ServingIndex } from './index.js';
import { topN, type Scored } from './top-n.js';

/** How the model answers for this user: a trained user vector, or a fold-in of a user new since the snapshot. */
export type ScoringMethod = 'trained' | 'fold-in';

/**
 * One user as the serving model sees them, for one request: their top-n, the model's score of any
 * item, and (for vector models) their vector, so the pipeline's sources and ranker ask the model
 * the same question three ways without folding the user in twice. Scores are in the serving
 * space: what `top` returns is what `score` gives for the same items.
 */
export interface UserScoring {
  readonly method: ScoringMethod;
  /** Whether scores are the dot-product part of a model that reranks its candidates (fold-in of NeuMF/EINMF). */
  readonly dotPart: boolean;
  top(n: number, skip: (i: number) => boolean): Scored[];
  /** The user's best score among items they have not seen, no catalogue filter applied: how much the model has to say. */
  best(seen: (i: number) => boolean): number;
  /** The model's score of each dense item. */
  score(items: ArrayLike<number>): Float32Array;
  /** The user's vector in the item space (for similar users), or null for item-based models. */
  vector(): Float32Array | null;
}

export interface UserScoringInput {
  userId: string;
  /** The snapshot's vector for this id may be used (the user's record predates its data). */
  trusted: boolean;
  /** Positive interactions, most recent first, with the model's notion of strength. */
  positives: readonly UserItem[];
  ratingMax: number;
  /** The user's labels as content features (a hybrid model scores a new user with no history from them). */
  labelFeatures?: NamedFeatures;
}

const vectorScoring = (index: ServingIndex, v: Float32Array, method: ScoringMethod, dotPart: boolean): UserScoring => ({
  method,
  dotPart,
  top: (n, skip) => index.topForVector(v, n, skip),
  best: (seen) => index.topForVector(v, 1, seen)[0]?.score ?? 0,
  score: (items) => index.scoreVectorAt(v, items),
  vector: () => v,
});

const arrayScoring = (scores: Float32Array, method: ScoringMethod): UserScoring => ({
  method,
  dotPart: false,
  top: (n, skip) => topN(scores, n, skip),
  best: (seen) => topN(scores, 1, seen)[0]?.score ?? 0,
  score: (items) => Float32Array.from(items, (i) => scores[i]),
  vector: () => null,
});

/** A user known to the snapshot: the index ranks (reranking candidates for NeuMF/EINMF). */
function trainedScoring(index: ServingIndex, u: number): UserScoring {
  const v = index.userVector(u);
  return {
    method: 'trained',
    dotPart: false,
    top: (n, skip) => index.recommend(u, n, skip),
    best: (seen) => index.recommend(u, 1, seen)[0]?.score ?? 0,
    score: (items) => (v && index.exact ? index.scoreVectorAt(v, items) : index.model.scorePairs(new Int32Array(items.length).fill(u), Int32Array.from(items))),
    vector: () => v,
  };
}

/** A user the snapshot does not know, from their current positive interactions; null when none is in the snapshot. */
function foldedScoring(index: ServingIndex, input: UserScoringInput): UserScoring | null {
  const positives = input.positives.filter((h) => index.itemIndex.has(h.item));
  if (positives.length === 0) return labelledScoring(index, input);
  const items = Int32Array.from(positives, (h) => index.itemIndex.get(h.item)!);
  const { ratingMax } = input;
  const strength = Float32Array.from(positives, (h) => (h.rating !== null ? h.rating : Math.min(h.weight, ratingMax)) / ratingMax);
  const model = index.model;
  if (model instanceof DmfModel) {
    const order = Array.from(items.keys()).sort((a, b) => items[a] - items[b]);
    return vectorScoring(index, model.userVectorFor(Int32Array.from(order, (k) => items[k]), Float32Array.from(order, (k) => strength[k] * ratingMax)), 'fold-in', false);
  }
  if (model instanceof EinmfModel) {
    const p = model.userVectorFor(items, Float32Array.from(positives, (h) => h.rating ?? Number.NaN), ratingMax);
    for (let f = 0; f < p.length; f++) p[f] *= model.h.data[f];
    return vectorScoring(index, p, 'fold-in', true);
  }
  if (isItemBased(model)) return arrayScoring(model.scoresFor(items), 'fold-in');
  if (!index.itemGram) return null;
  const v = model instanceof IalsModel ? model.userVectorFor(items, index.itemGram) : foldInUser(index.itemGram, index.itemVectors, index.dims, items, strength);
  return vectorScoring(index, v, 'fold-in', !index.exact);
}

/** A hybrid model's new user with no history it knows: their vector from their labels alone (null without any it knows). */
function labelledScoring(index: ServingIndex, input: UserScoringInput): UserScoring | null {
  if (!(index.model instanceof HybridModel) || !input.labelFeatures?.length) return null;
  const v = index.model.userVectorFor(input.labelFeatures);
  return v.some((x) => x !== 0) ? vectorScoring(index, v, 'fold-in', false) : null;
}

/**
 * The model's view of one user: ItemPop ranks everyone alike; a trained user by their vector (only
 * when trusted: an erased user's vector stays in older snapshots and must not answer for a new
 * user of the same id); anyone else folded in from their positives. Null: the model cannot say.
 */
export function userScoring(index: ServingIndex, input: UserScoringInput): UserScoring | null {
  if (index.kind === 'popularity') return arrayScoring(index.popularity, 'trained');
  const u = input.trusted ? index.userIndex.get(input.userId) : undefined;
  if (u !== undefined) return trainedScoring(index, u);
  return foldedScoring(index, input);
}
