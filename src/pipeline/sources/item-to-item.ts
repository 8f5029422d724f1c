import type { SourceConfig } from '../../config/pipeline.js';
import type { Csr } from '../../data/interactions.js';
import type { ServingIndex } from '../../serving/index.js';
import type { CandidateItem, RequestContext } from '../context.js';
import { proposalsFrom, type CandidateSource, type SourceAnswer } from './source.js';

type ItemToItemConfig = Extract<SourceConfig, { type: 'item-to-item' }>;

/** The mean of the recent items' unit vectors, made unit: "items like what the user just touched". */
function centroid(index: ServingIndex, items: readonly number[]): Float32Array | null {
  const unit = index.itemUnit;
  if (!unit || items.length === 0) return null;
  const d = index.dims;
  const c = new Float32Array(d);
  for (const i of items) for (let f = 0; f < d; f++) c[f] += unit[i * d + f];
  let norm = 0;
  for (let f = 0; f < d; f++) norm += c[f] * c[f];
  if (norm === 0) return null;
  const s = 1 / Math.sqrt(norm);
  for (let f = 0; f < d; f++) c[f] *= s;
  return c;
}

/** Weight of `to` in row `from` of a neighbour list (binary search; 0 when absent). */
function weightIn(m: Csr, from: number, to: number): number {
  let lo = m.indptr[from];
  let hi = m.indptr[from + 1] - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (m.indices[mid] === to) return m.values[mid];
    if (m.indices[mid] < to) lo = mid + 1;
    else hi = mid - 1;
  }
  return 0;
}

/**
 * `item-to-item`: neighbours of the user's most recent positive items, scored by the mean of their
 * weights to those items. `embedding`: the serving model's own lists (cosine neighbours, kept
 * for every item up to 5,000 items and above ANN_MIN_ITEMS; an item-based model's weights);
 * between those sizes, cosine to the centroid of the recent items' vectors (one catalogue scan).
 * `cooccurrence`: users in common, from lists the retrain job kept. Cost: recentItems × ≤100 list
 * entries, or one scan.
 */
export class ItemToItemSource implements CandidateSource {
  constructor(
    readonly name: string,
    readonly config: ItemToItemConfig,
  ) {}

  private recent(ctx: RequestContext): readonly number[] {
    return ctx.positivesDense.slice(0, this.config.recentItems);
  }

  /** Neighbour lists this method reads: the snapshot's co-occurrence (cosines), or the serving index's (cosines, or an item-based model's weights scaled to [0, 1]). */
  private lists(index: ServingIndex): Csr | null {
    if (this.config.method === 'cooccurrence') return index.artifacts.cooccurrence;
    return index.neighbourLists;
  }

  propose(ctx: RequestContext, n: number): SourceAnswer {
    const index = ctx.index;
    const recent = this.recent(ctx);
    if (!index) return { items: [], note: 'no model is serving yet' };
    if (recent.length === 0) return { items: [], note: 'no recent positive item the model knows' };
    const lists = this.lists(index);
    if (lists) return { items: this.fromLists(ctx, lists, recent, n) };
    const c = centroid(index, recent);
    if (!c) return { items: [], note: this.config.method === 'cooccurrence' ? 'this snapshot has no co-occurrence lists (retrain with this source configured)' : 'the model has no item vectors' };
    const because = recent.map((i) => index.itemIds[i]);
    return { items: index.similarToVector(c, n, ctx.skipDense).map((s) => ({ itemId: index.itemIds[s.item], score: s.score, because })) };
  }

  private fromLists(ctx: RequestContext, lists: Csr, recent: readonly number[], n: number): SourceAnswer['items'] {
    const index = ctx.index!;
    const scores = new Map<number, number>();
    const because = new Map<number, string[]>();
    for (const r of recent) {
      for (let p = lists.indptr[r]; p < lists.indptr[r + 1]; p++) {
        const j = lists.indices[p];
        scores.set(j, (scores.get(j) ?? 0) + lists.values[p] / recent.length);
        const b = because.get(j) ?? because.set(j, []).get(j)!;
        if (b.length < 3) b.push(index.itemIds[r]);
      }
    }
    return proposalsFrom(ctx, scores, n, because);
  }

  scoreItems(ctx: RequestContext, items: readonly CandidateItem[]): Float32Array {
    const out = new Float32Array(items.length);
    const index = ctx.index;
    const recent = this.recent(ctx);
    if (!index || recent.length === 0) return out;
    const lists = this.lists(index);
    if (lists) {
      items.forEach((c, k) => {
        if (c.dense >= 0) for (const r of recent) out[k] += weightIn(lists, r, c.dense) / recent.length;
      });
      return out;
    }
    const v = centroid(index, recent);
    if (!v) return out;
    const unit = index.itemUnit!;
    const d = index.dims;
    items.forEach((c, k) => {
      if (c.dense < 0) return;
      let s = 0;
      for (let f = 0; f < d; f++) s += unit[c.dense * d + f] * v[f];
      out[k] = s;
    });
    return out;
  }
}
