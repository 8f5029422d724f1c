import { randomUUID } from 'node:crypto';
import { DelayedError, Queue, UnrecoverableError, Worker, type ConnectionOptions } from 'bullmq';
import { Redis } from 'ioredis';
import { createJobsRepository, type JobRecord } from '../db/jobs-repository.js';
import type { Db } from '../db/connection.js';
import type { RetrainRequest } from '../train/job-handler.js';
import { BUSY_RETRY_MS, executeJob, JobBusy, JobCancelled, type WorkerDeps } from './execute.js';
import { QueueUnavailableError, RecordedJobQueue } from './job-queue.js';

interface Payload {
  jobId: string;
}

/**
 * The API's side of BullMQ: it records the job in SQLite and adds it to Redis; a worker process
 * (`npm run worker`) runs it. Commands fail fast while Redis is down (no offline queue), so a
 * retrain request gets a clear 503 instead of hanging.
 */
export class BullmqQueue extends RecordedJobQueue {
  readonly kind = 'bullmq';
  private readonly queue: Queue<Payload>;
  private readonly redis: Redis;

  constructor(
    db: Db,
    redisUrl: string,
    queueName: string,
    private readonly options: { attempts: number; backoffMs: number },
  ) {
    super(createJobsRepository(db));
    this.redis = new Redis(redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: false });
    this.redis.on('error', () => undefined); // reconnects by itself; failures surface per command as 503s
    this.queue = new Queue<Payload>(queueName, { connection: this.redis as unknown as ConnectionOptions });
    this.queue.on('error', () => undefined);
  }

  async enqueue(request: RetrainRequest): Promise<{ job: JobRecord; deduplicated: boolean }> {
    await this.ready();
    const { job, reused } = this.jobs.createOrReuse(randomUUID(), request.model, request, Date.now());
    if (reused) return { job, deduplicated: true };
    try {
      await this.queue.add('retrain', { jobId: job.id }, {
        jobId: job.id,
        attempts: this.options.attempts,
        backoff: { type: 'exponential', delay: this.options.backoffMs },
        removeOnComplete: 1000,
        removeOnFail: 1000,
      });
    } catch (err) {
      this.jobs.fail(job.id, `could not reach the queue: ${(err as Error).message}`, true, Date.now());
      throw new QueueUnavailableError(err);
    }
    return { job, deduplicated: false };
  }

  /** Waits briefly for a (re)connecting Redis; a Redis that stays down is a 503, not a hang. */
  private async ready(timeoutMs = 2000): Promise<void> {
    if (this.redis.status === 'ready') return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.redis.off('ready', onReady);
        reject(new QueueUnavailableError(new Error(`redis is ${this.redis.status}`)));
      }, timeoutMs);
      const onReady = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.redis.once('ready', onReady);
    });
  }

  protected async withdraw(id: string): Promise<void> {
    // A waiting job leaves Redis now; a running one is locked, and its worker aborts within a second.
    await this.queue.remove(id).catch(() => 0);
  }

  async depth(): Promise<number> {
    try {
      return await this.queue.getWaitingCount();
    } catch {
      return this.jobs.countByState().queued;
    }
  }

  async close(): Promise<void> {
    await this.queue.close().catch(() => undefined);
    this.redis.disconnect();
  }
}

/**
 * The worker side: consumes retrain jobs one at a time. On close it stops taking jobs and waits
 * for the running one; if the process is killed first (SIGKILL, or the shutdown timeout),
 * the job's lock expires and BullMQ's stalled-job check hands it to a worker again. Nothing is
 * half-applied either way: a version exists only once its snapshot is complete and registered.
 */
export async function startBullmqWorker(deps: WorkerDeps, redisUrl: string): Promise<{ worker: Worker<Payload>; close: () => Promise<void> }> {
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  connection.on('error', (err) => deps.log.warn({ err: err.message }, 'redis connection error'));
  const worker = new Worker<Payload>(
    deps.config.queueName,
    async (job, token) => {
      const final = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      try {
        return await executeJob(deps, job.data.jobId, final);
      } catch (err) {
        if (err instanceof JobCancelled) throw new UnrecoverableError(err.message);
        if (err instanceof JobBusy) {
          // Not an attempt: wait for the other job of this model without using up retries.
          await job.moveToDelayed(Date.now() + BUSY_RETRY_MS, token);
          throw new DelayedError();
        }
        throw err;
      }
    },
    {
      connection: connection as unknown as ConnectionOptions,
      concurrency: 1,
      lockDuration: deps.config.jobLockMs,
      stalledInterval: Math.max(500, Math.floor(deps.config.jobLockMs / 2)),
      maxStalledCount: 3,
    },
  );
  worker.on('error', (err) => deps.log.warn({ err: err.message }, 'worker error'));
  // Connected before it counts as started: a shutdown during the handshake would otherwise race it.
  await worker.waitUntilReady();
  let closed: Promise<void> | null = null;
  return {
    worker,
    // Idempotent; the connection is dropped even if closing the worker fails.
    close: () =>
      (closed ??= worker.close().finally(() => {
        connection.disconnect();
      })),
  };
}
