
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
  counts(): Promise<DataCounts>;
  /** Rows per bucket of `bucketMs` from `sinceMs` (a bucket start) up to the bucket holding `untilMs`, oldest first, empty buckets left out. */
  ingest(sinceMs: number, untilMs: number, bucketMs: number): Promise<IngestBucket[]>;
  /** The `limit` largest categories, largest first. */
  categories(limit: number): Promise<CategoryCount[]>;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** How far back each ingest series reaches: two days by hour, a month by day. */
export const INGEST_WINDOWS = { hour: { bucketMs: HOUR_MS, buckets: 48 }, day: { bucketMs: DAY_MS, buckets: 30 } } as const;
export type IngestBucketSize = keyof typeof INGEST_WINDOWS;
/** Categories listed for the catalogue page. */
const TOP_CATEGORIES = 200;

/** What the dashboard's overview and catalogue pages show about the data, computed together. */
export interface DataStats {
  /** When these figures were computed (epoch ms; 0 before the first computation). */
  at: number;
  counts: DataCounts;
  /** Non-empty buckets of each window as computed; read them through {@link ingestSeries}. */
  ingest: Record<IngestBucketSize, IngestBucket[]>;
  categories: CategoryCount[];
}

export const EMPTY_DATA_STATS: DataStats = {
  at: 0,
  counts: { users: 0, items: 0, ratings: 0, events: 0, hiddenItems: 0 },
  ingest: { hour: [], day: [] },
  categories: [],
};

export const windowStart = (size: IngestBucketSize, now: number): number => {
  const { bucketMs, buckets } = INGEST_WINDOWS[size];
  return now - (now % bucketMs) - (buckets - 1) * bucketMs;
};

/** Sums hourly buckets into days (UTC days are whole hours, so the sums are exact). */
function byDay(hours: readonly IngestBucket[]): IngestBucket[] {
  const days = new Map<number, IngestBucket>();
  for (const h of hours) {
    const t = h.t - (h.t % INGEST_WINDOWS.day.bucketMs);
    const d = days.get(t) ?? days.set(t, { t, ratings: 0, events: 0 }).get(t)!;
    d.ratings += h.ratings;
    d.events += h.events;
  }
  return [...days.values()];
}

/**
 * Runs in a database thread. The rows of the last 30 days are counted once, by hour, and the days
 * summed from those hours: at 1M rows written in the last hour, separate hour and day passes
 * read every row twice.
 */
export async function collectDataStats(repo: StatsRepository, now: number): Promise<DataStats> {
  const hours = await repo.ingest(windowStart('day', now), now, INGEST_WINDOWS.hour.bucketMs);
  const since = windowStart('hour', now);
  return { at: now, counts: await repo.counts(), ingest: { hour: hours.filter((h) => h.t >= since), day: byDay(hours) }, categories: await repo.categories(TOP_CATEGORIES) };
}
