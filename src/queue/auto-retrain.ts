import type { Db } from '../db/connection.js';
import type { ModelsRepository } from '../db/models-repository.js';
import type { ModelName } from '../models/model.js';
import type { JobQueue } from './job-queue.js';

const CHECK_EVERY_MS = 5000;

/**
 * RETRAIN_EVERY: after at least `every` new ratings and events since the serving version's data
 * watermark, enqueue a retrain of the default model. Checked after ingest, at most every few
 * seconds; the queue's per-model deduplication keeps it to one queued job.
 */
export function autoRetrainer(db: Db, models: ModelsRepository, queue: JobQueue, model: ModelName, every: number, log: { warn(o: object, m: string): void }): () => void {
  if (every <= 0) return () => undefined;
  let lastCheck = 0;
  let pending: NodeJS.Timeout | null = null;
  const ids = db.prepare<[], { r: number | null; e: number | null }>('SELECT (SELECT MAX(id) FROM ratings) AS r, (SELECT MAX(id) FROM events) AS e');
  const check = (): void => {
    pending = null;
    lastCheck = Date.now();
    try {
      enqueueIfDue();
    } catch (err) {
      // e.g. the database closed while a deferred check was pending at shutdown
      log.warn({ err: (err as Error).message }, 'automatic retrain check failed');
    }
  };
  const enqueueIfDue = (): void => {
    const active = models.active(model);
    const mark = (active?.manifest.watermark ?? {}) as { lastRatingId?: number; lastEventId?: number };
    const { r, e } = ids.get() ?? { r: 0, e: 0 };
    const fresh = (r ?? 0) - (mark.lastRatingId ?? 0) + ((e ?? 0) - (mark.lastEventId ?? 0));
    if (fresh < every) return;
    queue.enqueue({ model }).catch((err: unknown) => log.warn({ err: (err as Error).message }, 'automatic retrain could not be queued'));
  };
  // At most one check per interval; ingest during the interval defers it rather than dropping it.
  return () => {
    if (pending) return;
    const wait = lastCheck + CHECK_EVERY_MS - Date.now();
    if (wait <= 0) return check();
    pending = setTimeout(check, wait);
    pending.unref();
  };
}
