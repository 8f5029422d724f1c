import type { Config } from '../config.js';
import { ZodError } from 'zod';
import type { JobRecord, JobsRepository } from '../db/jobs-repository.js';
import type { Store } from '../db/store.js';
import type { BackendInfo } from '../models/backend.js';
import { ModelInputError, TrainingAborted } from '../models/model.js';
import { PermanentJobError } from '../train/errors.js';
import { retrainRequestSchema, runTrainingJob, type JobResult } from '../train/job-handler.js';
import type { TrainProgress } from '../train/trainer.js';

export interface WorkerDeps {
  store: Store;
  config: Config;
  backend: BackendInfo;
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
  /** Called after a job completed (the embedded setup refreshes serving at once). */
  onCompleted?: (result: JobResult) => void;
  /** Called after every attempt with its outcome and duration (metrics). */
  onAttempt?: (model: string, outcome: 'completed' | 'failed' | 'cancelled', seconds: number) => void;
  /** Cores `TRAIN_THREADS=auto` leaves free: 1 when training shares its process with the API. */
  spareCores?: number;
}

/** How long a job waits before trying again while another execution (of it or its model) runs. */
export const BUSY_RETRY_MS = 2000;

/** Another job of the same model runs, or this job's own previous attempt is still alive: try again after {@link BUSY_RETRY_MS}, without using an attempt. */
export class JobBusy extends Error {
  constructor(id: string, why: string) {
    super(`job ${id} waits: ${why}`);
    this.name = 'JobBusy';
  }
}

/** The job has nothing left to run: cancelled, or finished (completed or failed) elsewhere. */
export class JobGone extends Error {
  constructor(
    id: string,
    readonly record: JobRecord | undefined,
  ) {
    super(`job ${id} is ${record?.state ?? 'unknown'}`);
    this.name = 'JobGone';
  }
}

/** A running attempt whose heartbeat is older than this belongs to a process that died. */
export const staleAfterMs = (config: Pick<Config, 'jobLockMs'>): number => Math.max(10_000, 2 * config.jobLockMs);

/** Whether the job has an attempt running that still heartbeats. */
export const attemptAlive = (record: JobRecord, staleMs: number, now = Date.now()): boolean => record.state === 'active' && (record.heartbeatAt ?? 0) > now - staleMs;

/**
 * A job left active by a process (or thread) that died: that attempt counts. The job fails with
 * "process died during attempt N" when N was the last attempt allowed, else it goes back to
 * queued with that note. Returns the record after.
 */
export async function settleDeadAttempt(jobs: JobsRepository, record: JobRecord, maxAttempts: number, now: number, what = 'process'): Promise<JobRecord> {
  const final = record.attempts >= maxAttempts;
  await jobs.fail(record.id, `${what} died during attempt ${record.attempts}${final ? '' : '; retrying'}`, final, now);
  return (await jobs.get(record.id)) ?? record;
}

/** What a training curve needs of an epoch's progress. */
function historyEntry(p: TrainProgress): Record<string, unknown> {
  const { phase, stage, epoch, epochs, loss, valid, samplesPerSec, seconds } = p;
  return Object.fromEntries(Object.entries({ phase, stage, epoch, epochs, loss, valid, samplesPerSec, seconds, at: Date.now() }).filter(([, v]) => v !== undefined));
}

/** Errors another attempt cannot fix: they fail the job at once. */
function permanentError(err: unknown): PermanentJobError | null {
  if (err instanceof PermanentJobError) return err;
  if (err instanceof ModelInputError) return new PermanentJobError(err.message);
  if (err instanceof ZodError) return new PermanentJobError(`invalid request: ${err.issues.map((i) => `${i.path.join('.') || 'request'}: ${i.message}`).join('; ')}`);
  return null;
}

// Progress goes to the database at most this often (and on every phase change); cancellation is
// noticed within one check interval.
const PROGRESS_WRITE_MS = 500;
const CANCEL_CHECK_MS = 500;

/**
 * Runs one attempt of a job whichever queue delivered it: marks it active, trains with progress
 * and cancellation wired to its database record, records the result or the error. The record
 * decides everything: how many attempts were made (crashed ones included), whether one still
 * runs, and whether a failure ends the job (the last attempt, or an error no retry can fix) or
 * sends it back to queued for a retry.
 */
export async function executeJob(deps: WorkerDeps, id: string, outerSignal?: AbortSignal): Promise<JobResult> {
  const jobs = deps.store.jobs;
  const staleMs = staleAfterMs(deps.config);
  const maxAttempts = deps.config.jobAttempts;
  let record = await jobs.get(id);
  if (!record || !['queued', 'active'].includes(record.state)) throw new JobGone(id, record);
  if (record.state === 'active' && !attemptAlive(record, staleMs)) {
    record = await settleDeadAttempt(jobs, record, maxAttempts, Date.now());
    deps.log.warn({ jobId: id, err: record.error }, 'previous attempt of this job died');
    if (record.state !== 'queued') throw new JobGone(id, record);
  }
  const finalAttempt = record.attempts + 1 >= maxAttempts;
  const started = await jobs.start(id, Date.now(), staleMs);
  if (started === 'gone') throw new JobGone(id, await jobs.get(id));
  if (started === 'running') throw new JobBusy(id, 'its previous attempt is still running');
  if (started === 'busy') throw new JobBusy(id, 'another job of its model is running');
  const controller = new AbortController();
  const abortOuter = (): void => controller.abort(outerSignal?.reason ?? 'worker shutting down');
  outerSignal?.addEventListener('abort', abortOuter);
  // Record writes go one after another, so a pooled connection never reorders a curve's epochs.
  let writes: Promise<void> = Promise.resolve();
  const write = (what: string, op: () => Promise<void>): void => {
    writes = writes.then(op).catch((err: unknown) => deps.log.warn({ jobId: id, err: (err as Error).message }, `job ${what} not recorded`));
  };
  const cancelWatch = setInterval(() => {
    write('heartbeat', async () => {
      if ((await jobs.get(id))?.state === 'cancelled') controller.abort('cancelled');
      else await jobs.heartbeat(id, Date.now());
    });
  }, CANCEL_CHECK_MS);
  let lastWrite = 0;
  let lastPhase = '';
  const onProgress = (p: TrainProgress): void => {
    if (p.epoch !== undefined) write('history', () => jobs.appendHistory(id, historyEntry(p)));
    const now = Date.now();
    if (p.phase !== lastPhase || now - lastWrite >= PROGRESS_WRITE_MS) {
      const snapshot = { ...p };
      write('progress', () => jobs.progress(id, snapshot));
      lastWrite = now;
      lastPhase = p.phase;
    }
  };
  const startedAt = Date.now();
  try {
    const request = retrainRequestSchema.parse(record.request);
    deps.log.info({ jobId: id, model: request.model, attempt: record.attempts + 1 }, 'training job started');
    const result = await runTrainingJob(request, { store: deps.store, config: deps.config, backend: deps.backend, jobId: id, signal: controller.signal, onProgress, spareCores: deps.spareCores ?? 0 });
    await writes;
    await jobs.complete(id, result, Date.now());
    deps.onAttempt?.(record.model, 'completed', (Date.now() - startedAt) / 1000);
    deps.onCompleted?.(result);
    deps.log.info({ jobId: id, version: result.version, promoted: result.promoted, seconds: (Date.now() - startedAt) / 1000 }, 'training job completed');
    return result;
  } catch (err) {
    await writes;
    const now = await jobs.get(id);
    if (now?.state === 'cancelled') {
      deps.onAttempt?.(record.model, 'cancelled', (Date.now() - startedAt) / 1000);
      deps.log.warn({ jobId: id }, 'training job cancelled');
      throw new JobGone(id, now);
    }
    const interrupted = err instanceof TrainingAborted && outerSignal?.aborted;
    const permanent = permanentError(err);
    const message = permanent?.message ?? (err as Error).message ?? String(err);
    // A shutdown interrupts, it does not fail: the job goes back to queued for another worker.
    await jobs.fail(id, message, (finalAttempt || permanent !== null) && !interrupted, Date.now());
    deps.onAttempt?.(record.model, 'failed', (Date.now() - startedAt) / 1000);
    deps.log.error({ jobId: id, err: message, finalAttempt, permanent: permanent !== null }, interrupted ? 'training job interrupted' : 'training job failed');
    throw permanent ?? err;
  } finally {
    clearInterval(cancelWatch);
    outerSignal?.removeEventListener('abort', abortOuter);
  }
}
