
export const JOB_STATES = ['queued', 'active', 'completed', 'failed', 'cancelled'] as const;
export type JobState = (typeof JOB_STATES)[number];

export interface JobRecord {
  id: string;
  model: string;
  request: Record<string, unknown>;
  state: JobState;
  progress: Record<string, unknown> | null;
  result: Record<string, unknown> | null;
  error: string | null;
  attempts: number;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  /** When the running attempt last said it was alive. */
  heartbeatAt: number | null;
  /** How often the queue lost the job and it was enqueued again. */
  requeued: number;
  /** Per-epoch progress of the current (or last) attempt, oldest first. */
  history: Record<string, unknown>[];
}

export interface JobRow {
  id: string;
  model: string;
  request: string;
  state: JobState;
  progress: string | null;
  result: string | null;
  error: string | null;
  attempts: number;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  heartbeat_at: number | null;
  requeued: number;
  history: string | null;
}

const parse = (s: string | null): Record<string, unknown> | null => (s === null ? null : (JSON.parse(s) as Record<string, unknown>));

export function toRecord(r: JobRow): JobRecord {
  return {
    id: r.id,
    model: r.model,
    request: parse(r.request) ?? {},
    state: r.state,
    progress: parse(r.progress),
    result: parse(r.result),
    error: r.error,
    attempts: r.attempts,
    createdAt: r.created_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    heartbeatAt: r.heartbeat_at,
    requeued: r.requeued,
    history: r.history ? (JSON.parse(r.history) as Record<string, unknown>[]) : [],
  };
}

export interface JobsRepository {
  /**
   * Creates a queued job unless one for the same model is already queued; returns the job and
   * whether it was an existing one. Atomic, so two racing requests never create two.
   */
  createOrReuse(id: string, model: string, request: Record<string, unknown>, now: number): Promise<{ job: JobRecord; reused: boolean }>;
  get(id: string): Promise<JobRecord | undefined>;
  list(limit: number, state?: JobState): Promise<JobRecord[]>;
  /**
   * Marks a job active for a new attempt: `started`; `running` while its own previous attempt is
   * still alive (heartbeat newer than `staleMs`: at most one execution per job); `busy` while
   * another job of the same model is (at most one running job per model, across processes);
   * `gone` if it was cancelled or finished meanwhile.
   */
  start(id: string, now: number, staleMs: number): Promise<'started' | 'running' | 'busy' | 'gone'>;
  /** The running attempt is alive. */
  heartbeat(id: string, now: number): Promise<void>;
  progress(id: string, progress: Record<string, unknown>): Promise<void>;
  /** Appends one epoch's progress to the running attempt's history (bounded: the first 5,000 epochs). */
  appendHistory(id: string, entry: Record<string, unknown>): Promise<void>;
  complete(id: string, result: Record<string, unknown>, now: number): Promise<void>;
  /** Records an attempt's error; `final` ends the job as failed, else it goes back to queued. */
  fail(id: string, error: string, final: boolean, now: number): Promise<void>;
  /** Cancels a queued or active job; false when it already finished. */
  cancel(id: string, now: number): Promise<boolean>;
  /** The queue lost this queued job and it was enqueued again; `note` says so in its error. */
  markRequeued(id: string, note: string): Promise<void>;
  countByState(): Promise<Record<JobState, number>>;
}
