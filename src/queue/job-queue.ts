import type { JobRecord, JobState, JobsRepository } from '../db/jobs-repository.js';
import type { RetrainRequest } from '../train/job-handler.js';

/** The queue is unreachable (Redis down): callers answer 503 and may retry. */
export class QueueUnavailableError extends Error {
  constructor(cause: unknown) {
    super(`job queue unavailable: ${(cause as Error)?.message ?? String(cause)}`);
    this.name = 'QueueUnavailableError';
  }
}

/**
 * Training jobs behind one interface: BullMQ when REDIS_URL is set, an in-process runner
 * otherwise. Job records (state, progress, result, error) live in the database either way, so the
 * API reads them identically; the queue only decides who runs what, when.
 */
export interface JobQueue {
  readonly kind: 'bullmq' | 'in-process';
  /** Queues a retrain, or returns the job already queued for that model. */
  enqueue(request: RetrainRequest): Promise<{ job: JobRecord; deduplicated: boolean }>;
  get(id: string): Promise<JobRecord | undefined>;
  list(limit: number, state?: JobState): Promise<JobRecord[]>;
  /** Cancels a queued or running job; undefined if there is no such job. */
  cancel(id: string): Promise<JobRecord | undefined>;
  /** Jobs waiting to run. */
  depth(): Promise<number>;
  close(): Promise<void>;
}

/**
 * What both queues share: job records in the database. Subclasses decide how a job reaches a runner
 * and how a cancelled one is withdrawn from it.
 */
export abstract class RecordedJobQueue implements JobQueue {
  abstract readonly kind: JobQueue['kind'];

  constructor(protected readonly jobs: JobsRepository) {}

  abstract enqueue(request: RetrainRequest): Promise<{ job: JobRecord; deduplicated: boolean }>;
  abstract depth(): Promise<number>;
  abstract close(): Promise<void>;
  /** Takes a cancelled job out of the runner's hands (it is already marked cancelled). */
  protected abstract withdraw(id: string): Promise<void>;

  get(id: string): Promise<JobRecord | undefined> {
    return this.jobs.get(id);
  }

  list(limit: number, state?: JobState): Promise<JobRecord[]> {
    return this.jobs.list(limit, state);
  }

  async cancel(id: string): Promise<JobRecord | undefined> {
    if (!(await this.jobs.get(id))) return undefined;
    await this.jobs.cancel(id, Date.now());
    await this.withdraw(id);
    return this.jobs.get(id);
  }
}
