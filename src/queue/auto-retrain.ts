import { CronExpressionParser } from 'cron-parser';
import type { Store } from '../db/store.js';
import type { ModelName } from '../models/model.js';
import type { JobQueue } from './job-queue.js';

const CHECK_EVERY_MS = 5000;
/** setTimeout's longest delay; a later cron occurrence is reached in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface RetrainLog {
  info(o: object, m: string): void;
  warn(o: object, m: string): void;
}

type Target = ModelName | 'auto';

/** Ratings and events stored since the data watermark of `model`'s active version (`auto`: the serving one; all, without one). */
function interactionsSinceActive(store: Pick<Store, 'models' | 'training'>): (model: Target) => Promise<number> {
  return async (model) => {
    const version = model === 'auto' ? await store.models.servingVersion() : await store.models.active(model);
    const mark = (version?.manifest.watermark ?? {}) as { lastRatingId?: number; lastEventId?: number };
    const { lastRatingId, lastEventId } = await store.training.latestIds();
    return lastRatingId - (mark.lastRatingId ?? 0) + (lastEventId - (mark.lastEventId ?? 0));
  };
}

function enqueueRetrain(queue: JobQueue, model: Target, log: RetrainLog, why: string): void {
  queue.enqueue({ model }).then(
    ({ job, deduplicated }) => log.info({ model, jobId: job.id, deduplicated }, `${why}: retrain queued`),
    (err: unknown) => log.warn({ err: (err as Error).message }, `${why}: retrain could not be queued`),
  );
}

/**
 * RETRAIN_EVERY: after at least `every` new ratings and events since the serving version's data
 * watermark, enqueue a retrain of the default model. Checked after ingest, at most every few
 * seconds; the queue's per-model deduplication keeps it to one queued job.
 */
export function autoRetrainer(store: Pick<Store, 'models' | 'training'>, queue: JobQueue, model: Target, every: number, log: RetrainLog): () => void {
  if (every <= 0) return () => undefined;
  let lastCheck = 0;
  let pending: NodeJS.Timeout | null = null;
  const fresh = interactionsSinceActive(store);
  const check = (): void => {
    pending = null;
    lastCheck = Date.now();
    fresh(model).then(
      (n) => {
        if (n >= every) enqueueRetrain(queue, model, log, `RETRAIN_EVERY (${every}) reached`);
      },
      // e.g. the database closed while a deferred check was pending at shutdown
      (err: unknown) => log.warn({ err: (err as Error).message }, 'automatic retrain check failed'),
    );
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

export interface RetrainSchedule {
  stop(): void;
}

/**
 * RETRAIN_CRON: at every occurrence of the cron expression (in `tz`), enqueue a retrain of the
 * default model — unless nothing was ingested since its active version's data, since that would
 * train the same model again. Several API processes with the same schedule fire together and
 * the per-model deduplication leaves one queued job.
 */
export function scheduleRetrains(store: Pick<Store, 'models' | 'training'>, queue: JobQueue, model: Target, cron: { expression: string; tz: string }, log: RetrainLog): RetrainSchedule {
  const fresh = interactionsSinceActive(store);
  let timer: NodeJS.Timeout | null = null;
  let nextAt = 0;
  const arm = (after: number): void => {
    nextAt = CronExpressionParser.parse(cron.expression, { tz: cron.tz, currentDate: after }).next().getTime();
    wait();
  };
  const wait = (): void => {
    timer = setTimeout(fire, Math.min(MAX_TIMER_MS, Math.max(0, nextAt - Date.now())));
    timer.unref();
  };
  const fire = (): void => {
    if (Date.now() < nextAt) return wait();
    fresh(model).then(
      (n) => {
        if (n > 0) enqueueRetrain(queue, model, log, `RETRAIN_CRON (${cron.expression})`);
        else log.info({ model }, `RETRAIN_CRON (${cron.expression}): nothing new since the active version; not retrained`);
      },
      (err: unknown) => log.warn({ err: (err as Error).message }, 'scheduled retrain check failed'),
    );
    // Occurrences missed while the process was busy or suspended are not caught up one by one:
    // one retrain covers them.
    arm(Math.max(nextAt, Date.now()));
  };
  arm(Date.now());
  log.info({ model, cron: cron.expression, tz: cron.tz, next: new Date(nextAt).toISOString() }, 'scheduled retrains');
  return {
    stop: () => {
      if (timer) clearTimeout(timer);
    },
  };
}
