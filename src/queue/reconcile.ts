import type { JobRecord, JobsRepository } from '../db/jobs-repository.js';
import { attemptAlive, settleDeadAttempt } from './execute.js';

/** What reconciliation needs from BullMQ: a job's state there, why it failed, and adding it again. */
export interface QueueView {
  state(id: string): Promise<string>;
  failedReason(id: string): Promise<string | undefined>;
  add(id: string): Promise<void>;
}

export interface ReconcileOptions {
  maxAttempts: number;
  /** A running attempt whose heartbeat is older than this died with its process. */
  staleMs: number;
  log: { warn(obj: object, msg: string): void };
}

/** BullMQ states in which the queue still holds a job that will run (or runs). */
const HELD = new Set(['waiting', 'delayed', 'prioritized', 'active', 'waiting-children']);
/** Records that have not finished and are checked; bounded so one pass has a bounded cost. */
const PASS_LIMIT = 200;

/**
 * Makes job records tell the truth when Redis and the database disagree. For a `queued` or `active`
 * record, by what BullMQ says of the job:
 * - held (waiting, delayed, active…): nothing to do;
 * - `failed` (e.g. "job stalled more than allowable limit", attempts exhausted): the record fails
 *   with BullMQ's reason, unless an attempt is alive and will record its own outcome;
 * - gone (`unknown`: Redis restarted empty or evicted it) or `completed` without a recorded result:
 *   an attempt that is alive is left to finish; a dead one counts as an attempt; a job the queue
 *   lost is enqueued again **once** — nothing of it ran to completion, so running it is what the
 *   caller asked for — and a second loss fails it with an error saying so, rather than looping.
 */
export class Reconciler {
  constructor(
    private readonly jobs: JobsRepository,
    private readonly queue: QueueView,
    private readonly options: ReconcileOptions,
  ) {}

  /** Checks every unfinished record (up to a bound); returns how many changed. */
  async pass(): Promise<number> {
    let changed = 0;
    for (const record of [...(await this.jobs.list(PASS_LIMIT, 'active')), ...(await this.jobs.list(PASS_LIMIT, 'queued'))]) {
      const after = await this.check(record);
      if (after.state !== record.state || after.requeued !== record.requeued) changed++;
    }
    return changed;
  }

  /** Reconciles one record with the queue; returns the record after. */
  async check(record: JobRecord): Promise<JobRecord> {
    const state = await this.queue.state(record.id);
    if (HELD.has(state)) return record;
    if (attemptAlive(record, this.options.staleMs)) return record;
    if (state === 'failed') {
      const reason = (await this.queue.failedReason(record.id)) ?? 'no reason given';
      return this.failWith(record, `the queue failed this job: ${reason}`);
    }
    let current = record;
    if (current.state === 'active') {
      current = await settleDeadAttempt(this.jobs, current, this.options.maxAttempts, Date.now());
      if (current.state !== 'queued') return current;
    }
    if (current.requeued >= 1) return this.failWith(current, 'the queue lost this job twice (Redis restarted without its data?); request a new retrain');
    await this.queue.add(current.id);
    await this.jobs.markRequeued(current.id, `the queue had lost this job (BullMQ state: ${state}); it was enqueued again`);
    this.options.log.warn({ jobId: current.id, queueState: state }, 'job lost by the queue; enqueued again');
    return (await this.jobs.get(current.id)) ?? current;
  }

  private async failWith(record: JobRecord, message: string): Promise<JobRecord> {
    await this.jobs.fail(record.id, message, true, Date.now());
    this.options.log.warn({ jobId: record.id, err: message }, 'job record reconciled with the queue: failed');
    return (await this.jobs.get(record.id)) ?? record;
  }
}
