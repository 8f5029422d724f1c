import { parseLabels } from '../catalogue-repository.js';
import { toPage, type HistoryRepository, type HistoryRow } from '../history-repository.js';
import { mergeHistory, type DailyCount, type LatestItem, type ServingRepository } from '../serving-repository.js';
import type { CategoryCount, IngestBucket, StatsRepository } from '../stats-repository.js';
import { findId } from './entities.js';
import { countOf, row, rows, type Pool } from './pool.js';

const DAY_MS = 86_400_000;

export function postgresHistory(pool: Pool): HistoryRepository {
  return {
    async page(externalUserId, limit, after) {
      const user = await findId(pool, 'users', externalUserId);
      if (user === undefined) return undefined;
      // Same order as SQLite: ts desc, then 'event' before 'rating', then id desc. Each branch reads
      // at most one page from its (user_id, ts) index, and only the page's items are looked up, so
      // a page costs the same for a user with a thousand interactions as for one with a million.
      const found = await rows<HistoryRow>(
        pool,
        `WITH page AS (
           (SELECT 'rating' AS kind, id, ts, item_id, value, NULL::text AS type, NULL::text AS event_id FROM ratings
             WHERE user_id = $1 AND ($2::bigint IS NULL OR ts < $2 OR (ts = $2 AND ('rating' > $3 OR ('rating' = $3 AND id < $4))))
             ORDER BY ts DESC, id DESC LIMIT $5)
           UNION ALL
           (SELECT 'event' AS kind, id, ts, item_id, value, type, event_id FROM events
             WHERE user_id = $1 AND ($2::bigint IS NULL OR ts < $2 OR (ts = $2 AND ('event' > $3 OR ('event' = $3 AND id < $4))))
             ORDER BY ts DESC, id DESC LIMIT $5)
         )
         SELECT p.kind, p.id, p.ts, (SELECT external_id FROM items WHERE id = p.item_id) AS item, p.value, p.type, p.event_id
           FROM page p ORDER BY p.ts DESC, p.kind COLLATE "C" ASC, p.id DESC LIMIT $5`,
        [user, after?.ts ?? null, after?.kind ?? null, after?.id ?? null, limit + 1],
      );
      return toPage(found, limit);
    },
  };
}

export function postgresServing(pool: Pool): ServingRepository {
  return {
    // One round trip per request: the user row and their newest ratings and events in one statement.
    // Items are looked up row by row through their key: a hash join would scan the whole catalogue.
    async userHistory(externalId, eventWeights, limit) {
      const found = await rows<{ k: 'u' | 'r' | 'e'; item: string | null; value: number | null; type: string | null; ts: number | null; created_at: number }>(
        pool,
        `WITH u AS (SELECT id, created_at, labels FROM users WHERE external_id = $1)
         SELECT 'u' AS k, u.labels AS item, NULL::float8 AS value, NULL AS type, NULL::bigint AS ts, u.created_at FROM u
         UNION ALL
         SELECT 'r', (SELECT external_id FROM items WHERE id = r.item_id), r.value, NULL, r.ts, u.created_at
           FROM u CROSS JOIN LATERAL (SELECT item_id, value, ts FROM ratings WHERE user_id = u.id ORDER BY ts DESC LIMIT $2) r
         UNION ALL
         SELECT 'e', (SELECT external_id FROM items WHERE id = e.item_id), e.value, e.type, e.ts, u.created_at
           FROM u CROSS JOIN LATERAL (SELECT item_id, type, value, ts FROM events WHERE user_id = u.id ORDER BY ts DESC LIMIT $2) e`,
        [externalId, limit],
      );
      if (found.length === 0) return null;
      const ratings = found.filter((r) => r.k === 'r').map((r) => ({ item: r.item!, value: r.value!, ts: r.ts! }));
      const events = found.filter((r) => r.k === 'e').map((r) => ({ item: r.item!, type: r.type!, value: r.value!, ts: r.ts! }));
      // The user row carries the labels in its item column: one statement, one round trip.
      const labels = parseLabels(found.find((r) => r.k === 'u')?.item ?? null);
      return { createdAt: found[0].created_at, items: mergeHistory(ratings, events, eventWeights, limit), complete: ratings.length < limit && events.length < limit, labels };
    },
    async historyOf(externalId, eventWeights, itemIds) {
      const found = await rows<{ k: 'r' | 'e'; item: string; value: number; type: string | null; ts: number }>(
        pool,
        `WITH u AS (SELECT id FROM users WHERE external_id = $1), c AS (SELECT i.id, i.external_id FROM unnest($2::text[]) x JOIN items i ON i.external_id = x)
         SELECT 'r' AS k, c.external_id AS item, r.value, NULL AS type, r.ts FROM c JOIN ratings r ON r.item_id = c.id WHERE r.user_id = (SELECT id FROM u)
         UNION ALL
         SELECT 'e', c.external_id, SUM(e.value), e.type, MAX(e.ts) FROM c JOIN events e ON e.item_id = c.id WHERE e.user_id = (SELECT id FROM u) GROUP BY c.external_id, e.type`,
        [externalId, itemIds],
      );
      const ratings = found.filter((r) => r.k === 'r');
      const events = found.filter((r) => r.k === 'e').map((r) => ({ item: r.item, type: r.type!, value: r.value, ts: r.ts }));
      return mergeHistory(ratings, events, eventWeights, itemIds.length);
    },
    itemExists: async (itemId) => (await findId(pool, 'items', itemId)) !== undefined,
    dailyCounts: (sinceMs, dislikeAt) =>
      rows<DailyCount>(
        pool,
        `SELECT i.external_id AS item, d.day, d.type, d.n AS count FROM (
           SELECT item_id, ts / $1 AS day, NULL::text AS type, COUNT(*) AS n FROM ratings WHERE ts >= $2 AND value > $3 GROUP BY item_id, ts / $1
           UNION ALL
           SELECT item_id, ts / $1 AS day, type, COUNT(*) AS n FROM events WHERE ts >= $2 GROUP BY item_id, ts / $1, type
         ) d JOIN items i ON i.id = d.item_id`,
        [DAY_MS, sinceMs, dislikeAt],
      ),
    newestInteraction: async () => (await row<{ ts: number | null }>(pool, 'SELECT GREATEST((SELECT MAX(ts) FROM ratings), (SELECT MAX(ts) FROM events)) AS ts'))?.ts ?? 0,
    latestItems: (limit) => rows<LatestItem>(pool, 'SELECT external_id AS item, created_at AS "createdAt" FROM items WHERE hidden = 0 ORDER BY created_at DESC, id DESC LIMIT $1', [limit]),
    itemsInCategory: async (category) =>
      (await rows<{ id: string }>(pool, 'SELECT i.external_id AS id FROM item_categories c JOIN items i ON i.id = c.item_id WHERE c.category = $1', [category])).map((r) => r.id),
    itemsWithLabel: async (key, value) =>
      (await rows<{ id: string }>(pool, 'SELECT external_id AS id FROM items WHERE labels IS NOT NULL AND (labels::jsonb ->> $1) = $2', [key, value])).map((r) => r.id),
  };
}

export function postgresStats(pool: Pool): StatsRepository {
  return {
    counts: async () => ({
      users: await countOf(pool, 'users'),
      items: await countOf(pool, 'items'),
      ratings: await countOf(pool, 'ratings'),
      events: await countOf(pool, 'events'),
      hiddenItems: await countOf(pool, 'items', 'hidden = 1'),
    }),
    // One grouped range scan per table over the indexed write times (PostgreSQL aggregates in the server).
    ingest: async (sinceMs, untilMs, bucketMs) => {
      const end = sinceMs + (Math.floor((untilMs - sinceMs) / bucketMs) + 1) * bucketMs;
      const grouped = (table: string, column: string) =>
        rows<{ b: number; n: number }>(pool, `SELECT (${column} - $1) / $3 AS b, COUNT(*) AS n FROM ${table} WHERE ${column} >= $1 AND ${column} < $2 GROUP BY 1`, [sinceMs, end, bucketMs]);
      const [ratings, events] = await Promise.all([grouped('ratings', 'updated_at'), grouped('events', 'created_at')]);
      const buckets = new Map<number, IngestBucket>();
      const at = (b: number): IngestBucket => buckets.get(b) ?? buckets.set(b, { t: sinceMs + b * bucketMs, ratings: 0, events: 0 }).get(b)!;
      for (const r of ratings) at(r.b).ratings = r.n;
      for (const e of events) at(e.b).events = e.n;
      return [...buckets.values()].sort((a, b) => a.t - b.t);
    },
    categories: (limit) => rows<CategoryCount>(pool, 'SELECT category, COUNT(*) AS items FROM item_categories GROUP BY category ORDER BY items DESC, category COLLATE "C" LIMIT $1', [limit]),
  };
}
