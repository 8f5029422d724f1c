import { randomUUID } from 'node:crypto';
import { DelayedError, Queue, UnrecoverableError, Worker, type ConnectionOptions } from 'bullmq';
import { Redis } from 'ioredis';
import type { JobRecord, JobsRepository } from '../db/jobs-repository.js';
import type { RetrainRequest } from '../train/job-handler.js';
import { BUSY_RETRY_MS, executeJob, JobBusy, JobGone, staleAfterMs, type WorkerDeps } from './execute.js';
import { QueueUnavailableError, RecordedJobQueue } from './job-queue.js';
import { Reconciler } from './reconcile.js';

interface Payload {
  jobId: string;
}

export interface BullmqQueueOptions {
  attempts: number;
  backoffMs: number;
  jobLockMs: number;
  /** How often records are reconciled with Redis (and once at start). */
  reconcileMs: number;
  log: { warn(obj: object, msg: string): void };
}

/**
 * The API's side of BullMQ: it records the job in SQLite and adds it to Redis; a worker process
 * (`npm run worker`) runs it. Commands fail fast while Redis is down (no offline queue), so a
 * retrain request gets a clear 503 instead of hanging. Records are reconciled with what Redis
 * holds at start, every `reconcileMs`, and before a queued job is reused by deduplication.
 */
export class BullmqQueue extends RecordedJobQueue {
  readonly kind = 'bullmq';
  private readonly queue: Queue<Payload>;
  private readonly redis: Redis;
  private readonly reconciler: Reconciler;
  private readonly reconcileTimer: NodeJS.Timeout;
  private reconciling: Promise<unknown> | null = null;

  constructor(
    jobs: JobsRepository,
    redisUrl: string,
    queueName: string,
    private readonly options: BullmqQueueOptions,
  ) {
    super(jobs);
    this.redis = new Redis(redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: false });
    this.redis.on('error', () => undefined); // reconnects by itself; failures surface per command as 503s
    this.queue = new Queue<Payload>(queueName, { connection: this.redis as unknown as ConnectionOptions });
    this.queue.on('error', () => undefined);
    this.reconciler = new Reconciler(
      this.jobs,
      {
        state: (id) => this.queue.getJobState(id),
        failedReason: async (id) => (await this.queue.getJob(id))?.failedReason,
        // A finished job with this id would make `add` a no-op: it goes first.
        add: async (id) => {
          await this.queue.remove(id).catch(() => 0);
          await this.addToRedis(id);
        },
      },
      { maxAttempts: options.attempts, staleMs: staleAfterMs({ jobLockMs: options.jobLockMs }), log: options.log },
    );
    this.redis.once('ready', () => void this.reconcile());
    this.reconcileTimer = setInterval(() => void this.reconcile(), options.reconcileMs);
    this.reconcileTimer.unref();
  }

  /** One reconciliation pass; skipped while Redis is down or a pass runs. */
  async reconcile(): Promise<void> {
    if (this.reconciling || this.redis.status !== 'ready') return;
    this.reconciling = this.reconciler.pass().catch(() => undefined);
    await this.reconciling;
    this.reconciling = null;
  }

  async enqueue(request: RetrainRequest): Promise<{ job: JobRecord; deduplicated: boolean }> {
    await this.ready();
    for (;;) {
      const { job, reused } = await this.jobs.createOrReuse(randomUUID(), request.model, request, Date.now());
      if (reused) {
        // Reuse only a job the queue really holds; a lost one is enqueued again or failed, and
        // in the second case a new job is created.
        const checked = await this.withQueue(() => this.reconciler.check(job));
        if (checked.state === 'queued') return { job: checked, deduplicated: true };
        continue;
      }
      try {
        await this.addToRedis(job.id);
      } catch (err) {
        await this.jobs.fail(job.id, `could not reach the queue: ${(err as Error).message}`, true, Date.now());
        throw new QueueUnavailableError(err);
      }
      return { job, deduplicated: false };
    }
  }

  private async withQueue<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      throw new QueueUnavailableError(err);
    }
  }

  private async addToRedis(id: string): Promise<void> {
    await this.queue.add('retrain', { jobId: id }, {
      jobId: id,
      attempts: this.options.attempts,
      backoff: { type: 'exponential', delay: this.options.backoffMs },
      removeOnComplete: 1000,
      removeOnFail: 1000,
    });
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
      return (await this.jobs.countByState()).queued;
    }
  }

  async close(): Promise<void> {
    clearInterval(this.reconcileTimer);
    await this.reconciling;
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
  const jobs = deps.store.jobs;
  const worker = new Worker<Payload>(
    deps.config.queueName,
    async (job, token) => {
      try {
        return await executeJob(deps, job.data.jobId);
      } catch (err) {
        // Finished elsewhere (e.g. by the attempt that lost its lock in a Redis outage): BullMQ
        // completes the job with that result, or fails it without retrying.
        if (err instanceof JobGone) {
          if (err.record?.state === 'completed') return err.record.result;
          throw new UnrecoverableError(err.record?.error ?? err.message);
        }
        if (err instanceof JobBusy) {
          // Not an attempt: wait for the other execution without using up retries.
          await job.moveToDelayed(Date.now() + BUSY_RETRY_MS, token);
          throw new DelayedError();
        }
        // The record decides whether another attempt follows (crashed attempts count there,
        // which BullMQ's attemptsMade does not see).
        if ((await jobs.get(job.data.jobId))?.state !== 'queued') throw new UnrecoverableError((err as Error).message);
        throw err;
      }
    },
    {
      connection: connection as unknown as ConnectionOptions,
      concurrency: 1,
      lockDuration: deps.config.jobLockMs,
      stalledInterval: Math.max(500, Math.floor(deps.config.jobLockMs / 2)),
      // Stalls are crashed attempts: the record counts them and fails the job after JOB_ATTEMPTS,
      // so BullMQ gives it back that many times rather than failing it on its own first.
      maxStalledCount: deps.config.jobAttempts,
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
