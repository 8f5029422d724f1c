import { topN } from '../../serving/top-n.js';
import type { SourceConfig } from '../../config/pipeline.js';
import type { CandidateItem, RequestContext } from '../context.js';

/** One item a source proposes: its score normalised to the source's scale (see each source), and the user's items behind it. */
export interface Proposal {
  itemId: string;
  score: number;
  because?: readonly string[];
}

/** What a source answered for one request, best first, already filtered by the request's rules. */
export interface SourceAnswer {
  items: Proposal[];
  /** Why the source had nothing to say (no model, no history, …). */
  note?: string;
  /**
   * What the source's floor is compared with: by default its best item's score; a source may say
   * better (the model: how well it knows a folded-in user, unfiltered), or null for no floor.
   */
  confidence?: number | null;
}

/**
 * A named candidate source of the pipeline. `propose` is bounded by `n` (and each source's own
 * stated cost); `scoreItems` gives the ranker the source's opinion of items other sources
 * proposed, 0 where it has none.
 */
export interface CandidateSource {
  readonly name: string;
  readonly config: SourceConfig;
  propose(ctx: RequestContext, n: number): SourceAnswer;
  scoreItems(ctx: RequestContext, items: readonly CandidateItem[]): Float32Array;
}

/** Items of a dense-id score map, best first, external ids, skipping what the request must not show. */
export function proposalsFrom(ctx: RequestContext, scores: ReadonlyMap<number, number>, n: number, because?: ReadonlyMap<number, readonly string[]>): Proposal[] {
  const index = ctx.index!;
  const items = Int32Array.from(scores.keys());
  const values = Float32Array.from(scores.values());
  // A heap over the entries: the skip rule is asked only of items that would enter the top n.
  return topN(values, n, (k) => !(values[k] > 0) || ctx.skipDense(items[k])).map(({ item: k, score }) => {
    const i = items[k];
    return { itemId: index.itemIds[i], score, ...(because?.get(i) ? { because: because.get(i)! } : {}) };
  });
}
