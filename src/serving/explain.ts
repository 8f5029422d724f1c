import { isItemBased } from '../models/model.js';
import type { ServingIndex } from './index.js';

export interface Reason {
  itemId: string;
  /** How much this item of the user's history adds to the recommended item (model weight or cosine). */
  weight: number;
}

/** History items named per recommendation at most. */
const REASONS = 3;

/**
 * "Because you liked X": for each recommended item, the items of the user's own history that
 * contribute most to it. Item-based models (EASE, ItemKNN) say it exactly — their score is a sum
 * of per-history-item weights; models with item vectors give the history items most similar to
 * the recommended one (cosine), the usual explanation of a dot product. Cost: history × answer.
 */
export function explain(index: ServingIndex, history: readonly number[], recommended: readonly number[]): Reason[][] {
  const model = index.model;
  const weight = isItemBased(model) ? (from: number, to: number) => model.contribution(from, to) : index.itemUnit ? cosine(index.itemUnit, index.dims) : null;
  if (!weight || history.length === 0) return recommended.map(() => []);
  return recommended.map((to) =>
    history
      .map((from) => ({ from, w: weight(from, to) }))
      .filter((r) => r.w > 0)
      .sort((a, b) => b.w - a.w || a.from - b.from)
      .slice(0, REASONS)
      .map((r) => ({ itemId: index.itemIds[r.from], weight: r.w })),
  );
}

function cosine(unit: Float32Array, d: number): (a: number, b: number) => number {
  return (a, b) => {
    let s = 0;
    for (let f = 0; f < d; f++) s += unit[a * d + f] * unit[b * d + f];
    return s;
  };
}
