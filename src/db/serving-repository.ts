
/** One item a user interacted with, merged over ratings and events. */
export interface UserItem {
  item: string;
  /** The current rating, or null. */
  rating: number | null;
  /** Summed weight of the user's positive events on the item (0 when only rated). */
  weight: number;
  /** The user sent a `dislike` event for the item. */
  disliked: boolean;
}

/** A user's current interactions and when their record was created. */
export interface UserHistory {
  /** Creation time of the user's record (epoch ms); a user erased and back again gets a new one. */
  createdAt: number;
  /** Most recent first. */
  items: UserItem[];
  /**
   * Whether `items` is all the user ever interacted with. False when the bound cut it: what
   * counts as seen must then be asked per candidate ({@link ServingRepository.historyOf}).
   */
  complete: boolean;
  /** The user's labels (plan, country, …), for the ranker. */
  labels: Record<string, string>;
}

/** Interactions with an item on one day: positive ratings (`type` null) or events of one type. */
export interface DailyCount {
  item: string;
  day: number;
  count: number;
  type: string | null;
}

export interface LatestItem {
  item: string;
  createdAt: number;
}

export interface ServingRepository {
  /** The user's items (ratings and events), most recent first, at most `limit`; null for an unknown user. */
  userHistory(userId: string, eventWeights: Readonly<Record<string, number>>, limit: number): Promise<UserHistory | null>;
  /**
   * The user's interactions with these items only, merged per item like `userHistory` but
   * whatever their age: which candidates a heavy user has seen, at a cost bounded by the candidates.
   */
  historyOf(userId: string, eventWeights: Readonly<Record<string, number>>, itemIds: readonly string[]): Promise<UserItem[]>;
  itemExists(itemId: string): Promise<boolean>;
  /** Per item and day (epoch day) since `sinceMs`: ratings above `dislikeAt`, and events by type (leaderboards). */
  dailyCounts(sinceMs: number, dislikeAt: number): Promise<DailyCount[]>;
  /** Newest interaction (epoch ms), 0 without any: popularity's clock for old data. */
  newestInteraction(): Promise<number>;
  /** The `limit` most recently created items that are not hidden, newest first. */
  latestItems(limit: number): Promise<LatestItem[]>;
  /** Ids of the items in a category (a leaderboard's filter; read in a database thread). */
  itemsInCategory(category: string): Promise<string[]>;
  /** Ids of the items whose label `key` has this value. */
  itemsWithLabel(key: string, value: string): Promise<string[]>;
}


/** A user's newest ratings and events merged per item, most recent first: every backend's rule. */
export function mergeHistory(
  ratings: readonly { item: string; value: number; ts: number }[],
  events: readonly { item: string; type: string; value: number; ts: number }[],
  eventWeights: Readonly<Record<string, number>>,
  limit: number,
): UserItem[] {
  const merged = new Map<string, UserItem & { ts: number }>();
  const entry = (item: string, ts: number): UserItem & { ts: number } => {
    let e = merged.get(item);
    if (!e) merged.set(item, (e = { item, rating: null, weight: 0, disliked: false, ts }));
    e.ts = Math.max(e.ts, ts);
    return e;
  };
  for (const r of ratings) entry(r.item, r.ts).rating = r.value;
  for (const ev of events) {
    const e = entry(ev.item, ev.ts);
    const w = (eventWeights[ev.type] ?? 0) * ev.value;
    if (w < 0) e.disliked = true;
    else e.weight += w;
  }
  return [...merged.values()].sort((a, b) => b.ts - a.ts).slice(0, limit).map(({ item, rating, weight, disliked }) => ({ item, rating, weight, disliked }));
}
