import { parseLabels } from '../catalogue-repository.js';
import { type DailyCount, type LatestItem, type ServingRepository, mergeHistory } from '../serving-repository.js';
import type { Db } from './connection.js';
import { promised } from './promised.js';

const DAY_MS = 86_400_000;

export function createServingRepository(db: Db): ServingRepository {
  const userRow = db.prepare<[string], { id: number; created_at: number; labels: string | null }>('SELECT id, created_at, labels FROM users WHERE external_id = ?');
  const ratings = db.prepare<[number, number], { item: string; value: number; ts: number }>(
    `SELECT i.external_id AS item, r.value, r.ts FROM ratings r JOIN items i ON i.id = r.item_id
      WHERE r.user_id = ? ORDER BY r.ts DESC LIMIT ?`,
  );
  const events = db.prepare<[number, number], { item: string; type: string; value: number; ts: number }>(
    `SELECT i.external_id AS item, e.type, e.value, e.ts FROM events e JOIN items i ON i.id = e.item_id
      WHERE e.user_id = ? ORDER BY e.ts DESC LIMIT ?`,
  );
  // Per type, summed: a heavy clicker's thousand clicks on one item are one row.
  const ratingsOf = db.prepare<[string, string], { item: string; value: number; ts: number }>(
    `SELECT i.external_id AS item, r.value, r.ts FROM json_each(?) j JOIN items i ON i.external_id = j.value
       JOIN ratings r ON r.item_id = i.id WHERE r.user_id = (SELECT id FROM users WHERE external_id = ?)`,
  );
  const eventsOf = db.prepare<[string, string], { item: string; type: string; value: number; ts: number }>(
    `SELECT i.external_id AS item, e.type, SUM(e.value) AS value, MAX(e.ts) AS ts FROM json_each(?) j JOIN items i ON i.external_id = j.value
       JOIN events e ON e.item_id = i.id WHERE e.user_id = (SELECT id FROM users WHERE external_id = ?) GROUP BY i.external_id, e.type`,
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
  const inCategory = db.prepare<[string], string>('SELECT i.external_id FROM item_categories c JOIN items i ON i.id = c.item_id WHERE c.category = ?').pluck();
  // json_each, not a JSON path: any key (quotes, dots) matches exactly.
  const withLabel = db.prepare<[string, string], string>("SELECT i.external_id FROM items i, json_each(i.labels) l WHERE i.labels IS NOT NULL AND l.key = ? AND l.value = ? AND l.type = 'text'").pluck();
  return promised<ServingRepository>({
    userHistory(externalId, eventWeights, limit) {
      const user = userRow.get(externalId);
      if (!user) return null;
      const r = ratings.all(user.id, limit);
      const e = events.all(user.id, limit);
      return { createdAt: user.created_at, items: mergeHistory(r, e, eventWeights, limit), complete: r.length < limit && e.length < limit, labels: parseLabels(user.labels) };
    },
    historyOf(externalId, eventWeights, itemIds) {
      const ids = JSON.stringify(itemIds);
      return mergeHistory(ratingsOf.all(ids, externalId), eventsOf.all(ids, externalId), eventWeights, itemIds.length);
    },
    itemExists: (itemId) => item.get(itemId) !== undefined,
    dailyCounts: (sinceMs, dislikeAt) => daily.all(DAY_MS, sinceMs, dislikeAt, DAY_MS, sinceMs),
    newestInteraction: () => newest.get() ?? 0,
    latestItems: (limit) => latest.all(limit),
    itemsInCategory: (category) => inCategory.all(category),
    itemsWithLabel: (key, value) => withLabel.all(key, value),
  });
}
