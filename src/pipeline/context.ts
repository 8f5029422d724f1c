import type { UserItem } from '../db/serving-repository.js';
import type { ItemFilter } from '../serving/catalogue.js';
import type { ServingIndex } from '../serving/index.js';
import type { UserScoring } from '../serving/user-scoring.js';

/**
 * Everything one recommendation request knows, built once and read by every source, the ranker
 * and the rules: the serving model (the default or `?model=`), the user as it scores them, their
 * recent positive items, and what must never be shown. Bounded: the history is at most
 * HISTORY_LIMIT interactions.
 */
export interface RequestContext {
  /** Null for an anonymous session. */
  userId: string | null;
  index: ServingIndex | null;
  scoring: UserScoring | null;
  /** Positive interactions, most recent first. */
  positives: readonly UserItem[];
  /** Those of `positives` the index knows, as dense ids, most recent first. */
  positivesDense: readonly number[];
  userLabels: Readonly<Record<string, string>>;
  /** Items the request must not return (seen or disliked, catalogue filters), by external id. */
  skip: (itemId: string) => boolean;
  /** The same rule for dense ids of `index`. */
  skipDense: (i: number) => boolean;
  /** Only the user's own items (seen or disliked), dense: what a confidence ignores but catalogue filters do not change. */
  seenDense: (i: number) => boolean;
  filter: ItemFilter;
  now: number;
  /** Adds items to what the request must not return: seen items found past the history bound. */
  hide: (itemIds: Iterable<string>) => void;
}

/** An item the pipeline is ranking, with its dense id in the context's index (−1 when the index does not know it). */
export interface CandidateItem {
  itemId: string;
  dense: number;
}

export const denseOf = (ctx: RequestContext, itemId: string): number => ctx.index?.itemIndex.get(itemId) ?? -1;
