import type { UserItem } from '../db/serving-repository.js';
import { isDislike } from './context-builder.js';
import type { RequestContext } from './context.js';
import type { RankedList } from './run.js';

/**
 * Rounds of "which of these candidates has the user seen?" before the list is cut rather than
 * ranked again: each round costs one bounded query, and a list cut after the last stays correct,
 * only shorter.
 */
const ROUNDS = 4;

export interface UnseenCheck {
  /** The user's interactions with these items, whatever their age. */
  historyOf: (itemIds: readonly string[]) => Promise<UserItem[]>;
  excludeSeen: boolean;
  dislikeThreshold: number;
}

/**
 * A ranked list with nothing the user must not see, when their history is longer than the request
 * read: the request's context knows only the newest HISTORY_LIMIT items, so the list's candidates
 * are asked about (a cost bounded by the list's depth, not by the user's history), the ones found
 * hidden and the list ranked again; after the last round they are cut from the list instead. A
 * bound on what is read never decides what counts as seen.
 */
export async function rankUnseen(rank: () => RankedList, ctx: RequestContext, check: UnseenCheck | null): Promise<RankedList> {
  let list = rank();
  if (!check) return list;
  const asked = new Set<string>();
  for (let round = 1; ; round++) {
    const fresh = list.items.map((x) => x.itemId).filter((id) => !asked.has(id));
    if (fresh.length === 0) return list;
    for (const id of fresh) asked.add(id);
    const found = (await check.historyOf(fresh)).filter((h) => check.excludeSeen || isDislike(h, check.dislikeThreshold)).map((h) => h.item);
    if (found.length === 0) return list;
    ctx.hide(found);
    if (round >= ROUNDS) {
      const out = new Set(found);
      return { ...list, items: list.items.filter((x) => !out.has(x.itemId)) };
    }
    list = rank();
  }
}
