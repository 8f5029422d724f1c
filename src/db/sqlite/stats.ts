import { type IngestBucket, type CategoryCount, type StatsRepository } from '../stats-repository.js';
import type { Db } from './connection.js';
import { promised } from './promised.js';

export function createStatsRepository(db: Db): StatsRepository {
  const counters = Object.fromEntries((['users', 'items', 'ratings', 'events'] as const).map((t) => [t, db.prepare(`SELECT COUNT(*) FROM ${t}`).pluck()]));
  const count = (table: 'users' | 'items' | 'ratings' | 'events'): number => counters[table].get() as number;
  const hidden = db.prepare('SELECT COUNT(*) FROM items WHERE hidden = 1').pluck();
  // One range count per bucket walks the time index in order; a GROUP BY over the same rows sorts
  // them in a temporary B-tree: 247 ms against 30 ms for 1M ratings in 720 hourly buckets.
  const rangeCount = (sql: string) => db.prepare<[number, number], number>(sql).pluck();
  const ratings = rangeCount('SELECT COUNT(*) FROM ratings WHERE updated_at >= ? AND updated_at < ?');
  const events = rangeCount('SELECT COUNT(*) FROM events WHERE created_at >= ? AND created_at < ?');
  const categories = db.prepare<[number], CategoryCount>('SELECT category, COUNT(*) AS items FROM item_categories GROUP BY category ORDER BY items DESC, category LIMIT ?');

  return promised<StatsRepository>({
    counts: () => ({ users: count('users'), items: count('items'), ratings: count('ratings'), events: count('events'), hiddenItems: hidden.get() as number }),
    ingest: (sinceMs, untilMs, bucketMs) => {
      const out: IngestBucket[] = [];
      for (let t = sinceMs; t <= untilMs; t += bucketMs) {
        const bucket = { t, ratings: ratings.get(t, t + bucketMs) ?? 0, events: events.get(t, t + bucketMs) ?? 0 };
        if (bucket.ratings || bucket.events) out.push(bucket);
      }
      return out;
    },
    categories: (limit) => categories.all(limit),
  });
}
