import { INGEST_WINDOWS, windowStart, EMPTY_DATA_STATS, type DataStats, type IngestBucket, type IngestBucketSize } from '../db/stats-repository.js';

export { INGEST_WINDOWS, EMPTY_DATA_STATS, type DataStats, type IngestBucketSize } from '../db/stats-repository.js';
import { Refreshed } from '../threads/refreshed.js';

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

/** The data figures, recomputed off the loop within `refreshMs` of a change; requests read the ready copy. */
export function dataStatsMonitor(source: { dataStats(now: number): Promise<DataStats> }, refreshMs: number, log: { error(obj: object, msg: string): void }): Refreshed<DataStats> {
  return new Refreshed(EMPTY_DATA_STATS, (now) => source.dataStats(now), refreshMs, (err) => log.error({ err: err.message }, 'data statistics refresh failed; the previous figures stay'));
}
