import { randomUUID } from 'node:crypto';
import { createJobsRepository, type JobRecord } from '../db/jobs-repository.js';
import type { RetrainRequest } from '../train/job-handler.js';
import { BUSY_RETRY_MS, JobBusy, JobCancelled, type WorkerDeps } from './execute.js';
import { RecordedJobQueue } from './job-queue.js';
import { executeJobInThread } from './thread-attempt.js';

/**
 * The embedded queue (no Redis): jobs run one at a time in a worker thread of this process, in
 * order, with the same handler and SQLite records as the BullMQ worker. The API's event loop
 * only enqueues and watches: reading the training data and training happen in the thread, and
 * a job starts on a later tick, never inside the request that enqueued it. Failed attempts are retried with
 * exponential backoff; jobs left active or queued by a previous process run again at start.
 */
export class InProcessQueue extends RecordedJobQueue {
  readonly kind = 'in-process';
  private readonly pending: string[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private running: Promise<void> | null = null;
  private readonly shutdown = new AbortController();
  private closed = false;

  constructor(private readonly deps: WorkerDeps) {
    super(createJobsRepository(deps.db));
    this.jobs.requeueActive();
    for (const job of this.jobs.list(10_000, 'queued').reverse()) this.pending.push(job.id);
    this.kick();
  }

  async enqueue(request: RetrainRequest): Promise<{ job: JobRecord; deduplicated: boolean }> {
    const { job, reused } = this.jobs.createOrReuse(randomUUID(), request.model, request, Date.now());
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
    const attemptsBefore = this.jobs.get(id)?.attempts ?? 0;
    const final = attemptsBefore + 1 >= this.deps.config.jobAttempts;
    try {
      await executeJobInThread(this.deps, id, final, this.shutdown.signal);
    } catch (err) {
      if (err instanceof JobCancelled || this.closed) return;
      // Another process (a BullMQ worker on the same database) runs this model: wait, no attempt used.
      const busy = err instanceof JobBusy;
      if (final && !busy) return;
      const delay = busy ? BUSY_RETRY_MS : this.deps.config.jobBackoffMs * 2 ** attemptsBefore;
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
