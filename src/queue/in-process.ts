import { randomUUID } from 'node:crypto';
import type { JobRecord } from '../db/jobs-repository.js';
import type { RetrainRequest } from '../train/job-handler.js';
import { BUSY_RETRY_MS, JobBusy, settleDeadAttempt, type WorkerDeps } from './execute.js';
import { RecordedJobQueue } from './job-queue.js';
import { executeJobInThread } from './thread-attempt.js';

/**
 * The embedded queue (no Redis): jobs run one at a time in a worker thread of this process, in
 * order, with the same handler and database records as the BullMQ worker. The API's event loop
 * only enqueues and watches: reading the training data and training happen in the thread, and
 * a job starts on a later tick, never inside the request that enqueued it. Failed attempts are retried with
 * exponential backoff. Jobs run only in the process that owns the embedded queue, so at start a
 * job left active was killed with this process's previous run: that attempt counts (a job that
 * keeps killing the process fails after JOB_ATTEMPTS instead of crash-looping it), and queued
 * jobs run again.
 */
export class InProcessQueue extends RecordedJobQueue {
  readonly kind = 'in-process';
  private readonly pending: string[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private running: Promise<void> | null = null;
  private readonly shutdown = new AbortController();
  private closed = false;
  /** Settles what the previous run left behind; nothing starts before it has. */
  private readonly recovered: Promise<void>;

  constructor(private readonly deps: WorkerDeps) {
    super(deps.store.jobs);
    this.recovered = this.recover();
  }

  private async recover(): Promise<void> {
    for (const job of await this.jobs.list(10_000, 'active')) {
      const after = await settleDeadAttempt(this.jobs, job, this.deps.config.jobAttempts, Date.now());
      this.deps.log.warn({ jobId: job.id, state: after.state, err: after.error }, 'job was running when the process stopped');
    }
    for (const job of (await this.jobs.list(10_000, 'queued')).reverse()) this.pending.push(job.id);
    this.kick();
  }

  async enqueue(request: RetrainRequest): Promise<{ job: JobRecord; deduplicated: boolean }> {
    await this.recovered;
    const { job, reused } = await this.jobs.createOrReuse(randomUUID(), request.model, request, Date.now());
    if (!reused) {
      this.pending.push(job.id);
      this.kick();
    }
    return { job, deduplicated: reused };
  }

  protected async withdraw(id: string): Promise<void> {
    // A queued job leaves the line; a running one notices its cancelled record within a second.
    const k = this.pending.indexOf(id);
    if (k >= 0) this.pending.splice(k, 1);
  }

  async depth(): Promise<number> {
    return this.pending.length;
  }

  /** Stops taking jobs, interrupts the running one (it goes back to queued) and waits for it. */
  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.shutdown.abort('shutting down');
    await this.recovered.catch(() => undefined);
    await this.running?.catch(() => undefined);
  }

  /** Starts the next job on a later tick (never inside the caller, e.g. a request handler). */
  private kick(): void {
    setImmediate(() => this.startNext());
  }

  private startNext(): void {
    if (this.running || this.closed) return;
    const id = this.pending.shift();
    if (!id) return;
    this.running = this.runOne(id).finally(() => {
      this.running = null;
      this.kick();
    });
  }

  private async runOne(id: string): Promise<void> {
    try {
      await executeJobInThread(this.deps, id, this.shutdown.signal);
    } catch (err) {
      if (this.closed) return;
      // The record decides: only a job back in queued runs again (failed, cancelled and
      // completed ones are done; an active one runs elsewhere and will settle there).
      const record = await this.jobs.get(id);
      if (record?.state !== 'queued') return;
      const busy = err instanceof JobBusy;
      const delay = busy ? BUSY_RETRY_MS : this.deps.config.jobBackoffMs * 2 ** Math.max(0, record.attempts - 1);
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        this.pending.push(id);
        this.kick();
      }, delay);
      timer.unref();
      this.timers.add(timer);
    }
  }
}
