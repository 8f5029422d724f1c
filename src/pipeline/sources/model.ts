import type { SourceConfig } from '../../config/pipeline.js';
import type { CandidateItem, RequestContext } from '../context.js';
import type { CandidateSource, SourceAnswer } from './source.js';

/**
 * The typical best score of a trained user in the scoring's space (the snapshot's reference),
 * so a normalised 1 means "as confident as a typical trained user's top item". Snapshots without
 * a reference, or with a non-positive one (logits), keep raw scores.
 */
function referenceOf(ctx: RequestContext): number | null {
  const ref = ctx.index?.artifacts.reference;
  const r = ctx.scoring?.dotPart ? (ref?.dot ?? ref?.model) : ref?.model;
  return r !== undefined && r !== null && r > 0 ? r : null;
}

/**
 * `model`: the serving collaborative model's top-n for the user (their trained vector, or a
 * fold-in of their current interactions). Cost: one scan of the catalogue (approximate above
 * ANN_MIN_ITEMS), plus the rerank of 200 candidates for NeuMF/EINMF.
 */
export class ModelSource implements CandidateSource {
  constructor(
    readonly name: string,
    readonly config: SourceConfig,
  ) {}

  propose(ctx: RequestContext, n: number): SourceAnswer {
    if (!ctx.index) return { items: [], note: 'no model is serving yet' };
    if (!ctx.scoring) return { items: [], note: 'the model knows nothing of this user yet' };
    const ref = referenceOf(ctx);
    const index = ctx.index;
    const items = ctx.scoring.top(n, ctx.skipDense).map((s) => ({ itemId: index.itemIds[s.item], score: s.score / (ref ?? 1) }));
    const v = index.cold?.size ? ctx.scoring.vector() : null;
    if (v) {
      // Items newer than the snapshot, scored from their features on the same scale.
      items.push(...index.cold!.top(v, n, ctx.skip).map((c) => ({ itemId: c.itemId, score: c.score / (ref ?? 1) })));
      items.sort((a, b) => b.score - a.score);
      items.length = Math.min(items.length, n);
    }
    // A trained user is one the model knows; a folded-in one may be noise (items nobody else
    // touched): judged by their best score over the whole catalogue, before any filter.
    return { items, confidence: ctx.scoring.method === 'fold-in' && ref !== null ? ctx.scoring.best(ctx.seenDense) / ref : null };
  }

  scoreItems(ctx: RequestContext, items: readonly CandidateItem[]): Float32Array {
    const out = new Float32Array(items.length);
    if (!ctx.scoring) return out;
    const known = items.map((c, k) => k).filter((k) => items[k].dense >= 0);
    const scores = ctx.scoring.score(known.map((k) => items[k].dense));
    const ref = referenceOf(ctx) ?? 1;
    known.forEach((k, j) => (out[k] = scores[j] / ref));
    return out;
  }
}
