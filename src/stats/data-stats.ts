import type { CategoryCount, DataCounts, IngestBucket, StatsRepository } from '../db/stats-repository.js';
import { Refreshed } from '../threads/refreshed.js';

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

const windowStart = (size: IngestBucketSize, now: number): number => {
  const { bucketMs, buckets } = INGEST_WINDOWS[size];
  return now - (now % bucketMs) - (buckets - 1) * bucketMs;
};

/**
 * The series ending at the bucket holding `now`, one entry per bucket, zeros included, so charts
 * need no gap logic. Filled at read time (a bounded 48 or 30 entries) so the window moves with the
 * clock even when nothing new arrived to trigger a recomputation.
 */
export function ingestSeries(stats: DataStats, size: IngestBucketSize, now: number): IngestBucket[] {
  const { bucketMs } = INGEST_WINDOWS[size];
  const byStart = new Map(stats.ingest[size].map((r) => [r.t, r]));
  const out: IngestBucket[] = [];
  for (let t = windowStart(size, now); t <= now; t += bucketMs) out.push(byStart.get(t) ?? { t, ratings: 0, events: 0 });
  return out;
}

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

/** The data figures, recomputed off the loop within `refreshMs` of a change; requests read the ready copy. */
export function dataStatsMonitor(source: { dataStats(now: number): Promise<DataStats> }, refreshMs: number, log: { error(obj: object, msg: string): void }): Refreshed<DataStats> {
  return new Refreshed(EMPTY_DATA_STATS, (now) => source.dataStats(now), refreshMs, (err) => log.error({ err: err.message }, 'data statistics refresh failed; the previous figures stay'));
}
