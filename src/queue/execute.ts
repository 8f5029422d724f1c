import type { Config } from '../config.js';
import type { Db } from '../db/connection.js';
import { createJobsRepository, type JobsRepository } from '../db/jobs-repository.js';
import type { BackendInfo } from '../models/backend.js';
import { TrainingAborted } from '../models/model.js';
import { retrainRequestSchema, runTrainingJob, type JobResult } from '../train/job-handler.js';
import type { TrainProgress } from '../train/trainer.js';

export interface WorkerDeps {
  db: Db;
  config: Config;
  backend: BackendInfo;
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
  /** Called after a job completed (the embedded setup refreshes serving at once). */
  onCompleted?: (result: JobResult) => void;
  /** Called after every attempt with its outcome and duration (metrics). */
  onAttempt?: (model: string, outcome: 'completed' | 'failed' | 'cancelled', seconds: number) => void;
}

/** How long a job waits before trying again while another job of its model runs. */
export const BUSY_RETRY_MS = 2000;

/** Another job of the same model is running; try this one again after {@link BUSY_RETRY_MS}. */
export class JobBusy extends Error {
  constructor(id: string) {
    super(`job ${id} waits: another job of its model is running`);
    this.name = 'JobBusy';
  }
}

/** The job was cancelled (or finished elsewhere) before or while this attempt ran. */
export class JobCancelled extends Error {
  constructor(id: string) {
    super(`job ${id} was cancelled`);
    this.name = 'JobCancelled';
  }
}

// Progress goes to SQLite at most this often (and on every phase change); cancellation is
// noticed within one check interval.
const PROGRESS_WRITE_MS = 500;
const CANCEL_CHECK_MS = 500;

/**
 * Runs one attempt of a job whichever queue delivered it: marks it active, trains with progress
 * and cancellation wired to its SQLite record, records the result or the error. `finalAttempt`
 * decides whether a failure ends the job or sends it back to queued for a retry.
 */
export async function executeJob(deps: WorkerDeps, id: string, finalAttempt: boolean, outerSignal?: AbortSignal): Promise<JobResult> {
  const jobs: JobsRepository = createJobsRepository(deps.db);
  const record = jobs.get(id);
  if (!record) throw new JobCancelled(id);
  // A running job whose heartbeat is older than this belongs to a process that died.
  const staleMs = Math.max(10_000, 2 * deps.config.jobLockMs);
  const started = jobs.start(id, Date.now(), staleMs);
  if (started === 'gone') throw new JobCancelled(id);
  if (started === 'busy') throw new JobBusy(id);
  const controller = new AbortController();
  const abortOuter = (): void => controller.abort(outerSignal?.reason ?? 'worker shutting down');
  outerSignal?.addEventListener('abort', abortOuter);
  const cancelWatch = setInterval(() => {
    if (jobs.get(id)?.state === 'cancelled') controller.abort('cancelled');
    else jobs.heartbeat(id, Date.now());
  }, CANCEL_CHECK_MS);
  let lastWrite = 0;
  let lastPhase = '';
  const onProgress = (p: TrainProgress): void => {
    const now = Date.now();
    if (p.phase !== lastPhase || now - lastWrite >= PROGRESS_WRITE_MS) {
      jobs.progress(id, { ...p });
      lastWrite = now;
      lastPhase = p.phase;
    }
  };
  const startedAt = Date.now();
  try {
    const request = retrainRequestSchema.parse(record.request);
    deps.log.info({ jobId: id, model: request.model, attempt: record.attempts + 1 }, 'training job started');
    const result = await runTrainingJob(request, { db: deps.db, config: deps.config, backend: deps.backend, jobId: id, signal: controller.signal, onProgress });
    jobs.complete(id, result, Date.now());
    deps.onAttempt?.(record.model, 'completed', (Date.now() - startedAt) / 1000);
    deps.onCompleted?.(result);
    deps.log.info({ jobId: id, version: result.version, promoted: result.promoted, seconds: (Date.now() - startedAt) / 1000 }, 'training job completed');
    return result;
  } catch (err) {
    if (jobs.get(id)?.state === 'cancelled') {
      deps.onAttempt?.(record.model, 'cancelled', (Date.now() - startedAt) / 1000);
      deps.log.warn({ jobId: id }, 'training job cancelled');
      throw new JobCancelled(id);
    }
    const interrupted = err instanceof TrainingAborted && outerSignal?.aborted;
    const message = (err as Error).message ?? String(err);
    // A shutdown interrupts, it does not fail: the job goes back to queued for another worker.
    jobs.fail(id, message, finalAttempt && !interrupted, Date.now());
    deps.onAttempt?.(record.model, 'failed', (Date.now() - startedAt) / 1000);
    deps.log.error({ jobId: id, err: message, finalAttempt }, interrupted ? 'training job interrupted' : 'training job failed');
    throw err;
  } finally {
    clearInterval(cancelWatch);
    outerSignal?.removeEventListener('abort', abortOuter);
  }
}
