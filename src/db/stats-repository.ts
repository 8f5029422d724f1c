import type { Db } from './connection.js';

export interface DataCounts {
  users: number;
  items: number;
  ratings: number;
  events: number;
  hiddenItems: number;
}

/** Rows written in one time bucket: ratings by when they were last written, events by arrival. */
export interface IngestBucket {
  /** Bucket start, epoch ms. */
  t: number;
  ratings: number;
  events: number;
}

export interface CategoryCount {
  category: string;
  items: number;
}

/** Aggregates for the dashboard; every one grows with the data, so only a database thread calls them. */
export interface StatsRepository {
  counts(): DataCounts;
  /** Rows per bucket of `bucketMs` since `sinceMs`, oldest first, empty buckets left out. */
  ingest(sinceMs: number, bucketMs: number): IngestBucket[];
  /** The `limit` largest categories, largest first. */
  categories(limit: number): CategoryCount[];
}

export function createStatsRepository(db: Db): StatsRepository {
  const count = (table: 'users' | 'items' | 'ratings' | 'events'): number => db.prepare(`SELECT COUNT(*) FROM ${table}`).pluck().get() as number;
  const hidden = db.prepare('SELECT COUNT(*) FROM items WHERE hidden = 1').pluck();
  const perBucket = (sql: string) => db.prepare<[number, number], { b: number; n: number }>(sql);
  const ratings = perBucket('SELECT updated_at - updated_at % ? AS b, COUNT(*) AS n FROM ratings WHERE updated_at >= ? GROUP BY b');
  const events = perBucket('SELECT created_at - created_at % ? AS b, COUNT(*) AS n FROM events WHERE created_at >= ? GROUP BY b');
  const categories = db.prepare<[number], CategoryCount>('SELECT category, COUNT(*) AS items FROM item_categories GROUP BY category ORDER BY items DESC, category LIMIT ?');

  return {
    counts: () => ({ users: count('users'), items: count('items'), ratings: count('ratings'), events: count('events'), hiddenItems: hidden.get() as number }),
    ingest: (sinceMs, bucketMs) => {
      const buckets = new Map<number, IngestBucket>();
      const at = (t: number): IngestBucket => buckets.get(t) ?? buckets.set(t, { t, ratings: 0, events: 0 }).get(t)!;
      for (const r of ratings.all(bucketMs, sinceMs)) at(r.b).ratings = r.n;
      for (const r of events.all(bucketMs, sinceMs)) at(r.b).events = r.n;
      return [...buckets.values()].sort((a, b) => a.t - b.t);
    },
    categories: (limit) => categories.all(limit),
  };
}
