import type { Db } from './connection.js';

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

export interface DailyCount {
  item: string;
  day: number;
  count: number;
}

export interface ServingRepository {
  /** The user's items (ratings and events), most recent first, at most `limit`. */
  userItems(userId: string, eventWeights: Readonly<Record<string, number>>, limit: number): UserItem[];
  itemExists(itemId: string): boolean;
  /** Interactions per item and day (epoch day), for recency-weighted popularity. */
  dailyCounts(sinceMs: number): DailyCount[];
}

const DAY_MS = 86_400_000;

export function createServingRepository(db: Db): ServingRepository {
  const userId = db.prepare<[string], number>('SELECT id FROM users WHERE external_id = ?').pluck();
  const ratings = db.prepare<[number, number], { item: string; value: number; ts: number }>(
    `SELECT i.external_id AS item, r.value, r.ts FROM ratings r JOIN items i ON i.id = r.item_id
      WHERE r.user_id = ? ORDER BY r.ts DESC LIMIT ?`,
  );
  const events = db.prepare<[number, number], { item: string; type: string; value: number; ts: number }>(
    `SELECT i.external_id AS item, e.type, e.value, e.ts FROM events e JOIN items i ON i.id = e.item_id
      WHERE e.user_id = ? ORDER BY e.ts DESC LIMIT ?`,
  );
  const item = db.prepare<[string], number>('SELECT 1 FROM items WHERE external_id = ?').pluck();
  const daily = db.prepare<[number, number, number, number], DailyCount>(
    `SELECT i.external_id AS item, d.day, SUM(d.n) AS count FROM (
        SELECT item_id, ts / ? AS day, COUNT(*) AS n FROM ratings WHERE ts >= ? GROUP BY item_id, day
        UNION ALL
        SELECT item_id, ts / ? AS day, COUNT(*) AS n FROM events WHERE ts >= ? GROUP BY item_id, day
      ) d JOIN items i ON i.id = d.item_id GROUP BY i.external_id, d.day`,
  );
  return {
    userItems(externalId, eventWeights, limit) {
      const id = userId.get(externalId);
      if (id === undefined) return [];
      const merged = new Map<string, UserItem & { ts: number }>();
      const entry = (id: string, ts: number) => {
        let e = merged.get(id);
        if (!e) {
          e = { item: id, rating: null, weight: 0, disliked: false, ts };
          merged.set(id, e);
        }
        e.ts = Math.max(e.ts, ts);
        return e;
      };
      for (const r of ratings.all(id, limit)) entry(r.item, r.ts).rating = r.value;
      for (const ev of events.all(id, limit)) {
        const e = entry(ev.item, ev.ts);
        const w = (eventWeights[ev.type] ?? 0) * ev.value;
        if (w < 0 || ev.type === 'dislike') e.disliked = true;
        else e.weight += w;
      }
      return [...merged.values()].sort((a, b) => b.ts - a.ts).slice(0, limit).map(({ item, rating, weight, disliked }) => ({ item, rating, weight, disliked }));
    },
    itemExists: (itemId) => item.get(itemId) !== undefined,
    dailyCounts: (sinceMs) => daily.all(DAY_MS, sinceMs, DAY_MS, sinceMs),
  };
}
