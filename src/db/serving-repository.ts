import type { Db } from './connection.js';
import { promised } from './promised.js';

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
  itemExists(itemId: string): Promise<boolean>;
  /** Interactions per item and day (epoch day), for recency-weighted popularity. */
  /** Per item and day since `sinceMs`: ratings above `dislikeAt`, and events by type. */
  dailyCounts(sinceMs: number, dislikeAt: number): Promise<DailyCount[]>;
  /** Newest interaction (epoch ms), 0 without any: popularity's clock for old data. */
  newestInteraction(): Promise<number>;
  /** The `limit` most recently created items that are not hidden, newest first. */
  latestItems(limit: number): Promise<LatestItem[]>;
}

const DAY_MS = 86_400_000;

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

export function createServingRepository(db: Db): ServingRepository {
  const userRow = db.prepare<[string], { id: number; created_at: number }>('SELECT id, created_at FROM users WHERE external_id = ?');
  const ratings = db.prepare<[number, number], { item: string; value: number; ts: number }>(
    `SELECT i.external_id AS item, r.value, r.ts FROM ratings r JOIN items i ON i.id = r.item_id
      WHERE r.user_id = ? ORDER BY r.ts DESC LIMIT ?`,
  );
  const events = db.prepare<[number, number], { item: string; type: string; value: number; ts: number }>(
    `SELECT i.external_id AS item, e.type, e.value, e.ts FROM events e JOIN items i ON i.id = e.item_id
      WHERE e.user_id = ? ORDER BY e.ts DESC LIMIT ?`,
  );
  const item = db.prepare<[string], number>('SELECT 1 FROM items WHERE external_id = ?').pluck();
  // A bound JS number is a REAL to SQLite: without the cast, `ts / day` is fractional and every timestamp its own group.
  const daily = db.prepare<[number, number, number, number, number], DailyCount>(
    `SELECT i.external_id AS item, d.day, d.type, d.n AS count FROM (
        SELECT item_id, ts / CAST(? AS INTEGER) AS day, NULL AS type, COUNT(*) AS n FROM ratings WHERE ts >= ? AND value > ? GROUP BY item_id, day
        UNION ALL
        SELECT item_id, ts / CAST(? AS INTEGER) AS day, type, COUNT(*) AS n FROM events WHERE ts >= ? GROUP BY item_id, day, type
      ) d JOIN items i ON i.id = d.item_id`,
  );
  const newest = db.prepare<[], number | null>('SELECT MAX(ts) FROM (SELECT MAX(ts) AS ts FROM ratings UNION ALL SELECT MAX(ts) FROM events)').pluck();
  const latest = db.prepare<[number], LatestItem>('SELECT external_id AS item, created_at AS createdAt FROM items WHERE hidden = 0 ORDER BY created_at DESC, id DESC LIMIT ?');
  return promised<ServingRepository>({
    userHistory(externalId, eventWeights, limit) {
      const user = userRow.get(externalId);
      if (!user) return null;
      return { createdAt: user.created_at, items: mergeHistory(ratings.all(user.id, limit), events.all(user.id, limit), eventWeights, limit) };
    },
    itemExists: (itemId) => item.get(itemId) !== undefined,
    dailyCounts: (sinceMs, dislikeAt) => daily.all(DAY_MS, sinceMs, dislikeAt, DAY_MS, sinceMs),
    newestInteraction: () => newest.get() ?? 0,
    latestItems: (limit) => latest.all(limit),
  });
}
