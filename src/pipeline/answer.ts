import type { RankerType } from '../config/pipeline.js';
import { explain, type Reason } from '../serving/explain.js';
import type { ServingIndex } from '../serving/index.js';
import type { RequestContext } from './context.js';
import { intraListSimilarity, type UnitVectorOf } from './diversity/diversity.js';
import type { RankedItem } from './ranker/rankers.js';
import type { RankedList, SourceNote } from './run.js';

export interface RecommendedItem {
  itemId: string;
  /** What ordered the list: the ranker's relevance after rules (higher first). */
  score: number;
  /** The source credited with the item (a blended source, a fallback, or `pin`). */
  source: string;
  /** With `explain`: the user's own items behind this one, strongest first. */
  because?: Reason[];
  /** With `explain`: every source that proposed the item and its normalised score there. */
  sources?: Record<string, number>;
}

export interface Recommendation {
  model: string;
  modelVersion: string | null;
  /** `model` when the answer is personal (an item came from the model, item-to-item or user-to-user), `fallback` when only leaderboards, the latest list or pins answered (kept for clients written before the pipeline). */
  source: 'model' | 'fallback';
  method: 'trained' | 'fold-in' | 'popularity';
  ranker: RankerType;
  items: RecommendedItem[];
  /** Sources that gave nothing and why (below their floor, no model yet, …). */
  notes: SourceNote[];
  /** The next page of this list, or null at its end. */
  nextCursor: string | null;
  /** Mean pairwise cosine of the page's items (serving model's vectors); null when it cannot say. */
  intraListSimilarity: number | null;
}

const INDEX_SOURCES = new Set(['model', 'item-to-item', 'user-to-user']);

/** One page of a ranked list as the API answers it. */
export function pageOf(
  list: RankedList,
  page: readonly RankedItem[],
  ctx: Pick<RequestContext, 'index' | 'positivesDense'>,
  options: { explain: boolean; sourceType: (name: string) => string | undefined; vectorOf: UnitVectorOf; nextCursor: string | null },
): Recommendation {
  const index = ctx.index;
  // Personal: some item came from a source that reads the model (its scores, item or user vectors).
  const usedIndex = index !== null && page.some((x) => INDEX_SOURCES.has(options.sourceType(x.source) ?? ''));
  const reasons = options.explain && index ? reasonsFor(index, ctx, page) : null;
  return {
    model: usedIndex ? index.modelName : 'popularity',
    modelVersion: index?.version ?? null,
    source: usedIndex ? 'model' : 'fallback',
    method: list.method ?? 'popularity',
    ranker: list.ranker,
    items: page.map((x, k) => ({ itemId: x.itemId, score: x.relevance, source: x.source, ...(reasons ? { because: reasons[k], sources: x.proposed } : {}) })),
    notes: list.notes,
    nextCursor: options.nextCursor,
    intraListSimilarity: intraListSimilarity(page, options.vectorOf),
  };
}

/** "Because you liked X" for each item the index knows, from the user's positive items. */
function reasonsFor(index: ServingIndex, ctx: Pick<RequestContext, 'positivesDense'>, page: readonly RankedItem[]): Reason[][] {
  const known = page.map((x, k) => k).filter((k) => page[k].dense >= 0);
  const found = explain(index, ctx.positivesDense, known.map((k) => page[k].dense));
  const out: Reason[][] = page.map(() => []);
  known.forEach((k, j) => (out[k] = found[j]));
  return out;
}

/** Estimated heap bytes of a cached list key. */
export const keyBytes = (listId: string): number => 100 + 2 * listId.length;
