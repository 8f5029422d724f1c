import type { FeedbackRecord, ImpressionRecord, OnlineBatchResult, SeenReport } from '../db/online-repository.js';
import type { EncodedOnlineBatch } from '../db/thread/database-thread.js';

export type BatchWriter = (batch: EncodedOnlineBatch) => Promise<OnlineBatchResult>;

export interface ImpressionLogOptions {
  /** Bytes buffered and in flight at most; beyond it new records are dropped (and counted). */
  maxBytes: number;
  flushMs: number;
  windowMs: number;
  /** A batch this large is written without waiting for the timer. */
  flushBytes?: number;
}

export interface LogCounters {
  recorded: number;
  dropped: number;
  droppedFeedback: number;
  written: number;
  failedBatches: number;
}

const FEEDBACK_BYTES = 160;
const REPORT_BYTES = 120;

/**
 * What recommendation answers showed and the feedback that followed, buffered on the API's loop
 * at the cost of one JSON.stringify per answer and written by a database thread in one
 * transaction per batch. Memory is bounded: buffered plus in-flight bytes stay under `maxBytes`
 * whatever the database's speed; when it is slower than the traffic, new records are dropped and
 * counted rather than queued without end. A batch is acknowledged once its transaction commits:
 * what was acknowledged survives a restart; what was buffered is written at close.
 */
export class ImpressionLog {
  private impressions: string[] = [];
  private feedback: FeedbackRecord[] = [];
  private reports: SeenReport[] = [];
  private bufferedBytes = 0;
  private inflightBytes = 0;
  private inflight: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  readonly counters: LogCounters = { recorded: 0, dropped: 0, droppedFeedback: 0, written: 0, failedBatches: 0 };
  /** Called with each committed batch's result (metrics count attributions). */
  onWritten: ((result: OnlineBatchResult) => void) | null = null;
  onError: ((err: Error) => void) | null = null;

  constructor(
    private readonly write: BatchWriter,
    private readonly options: ImpressionLogOptions,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.flush(), this.options.flushMs);
    this.timer.unref();
  }

  get bytes(): number {
    return this.bufferedBytes + this.inflightBytes;
  }

  private admit(bytes: number): boolean {
    if (this.closed || this.bytes + bytes > this.options.maxBytes) return false;
    this.bufferedBytes += bytes;
    if (this.bufferedBytes >= (this.options.flushBytes ?? this.options.maxBytes / 8)) void this.flush();
    return true;
  }

  impression(record: ImpressionRecord): void {
    const json = JSON.stringify(record);
    if (!this.admit(2 * json.length)) {
      this.counters.dropped++;
      return;
    }
    this.impressions.push(json);
    this.counters.recorded++;
  }

  feedbackOf(records: readonly FeedbackRecord[]): void {
    for (const r of records) {
      if (!this.admit(FEEDBACK_BYTES)) {
        this.counters.droppedFeedback += 1;
        continue;
      }
      this.feedback.push(r);
    }
  }

  report(r: SeenReport): boolean {
    if (!this.admit(REPORT_BYTES + 40 * r.itemIds.length)) return false;
    this.reports.push(r);
    return true;
  }

  /** Writes what is buffered (after the batch in flight, if any); resolves once it committed or failed. */
  async flush(): Promise<void> {
    while (this.inflight) await this.inflight;
    if (this.impressions.length + this.feedback.length + this.reports.length === 0) return;
    const batch: EncodedOnlineBatch = { impressions: this.impressions, feedback: this.feedback, reports: this.reports, windowMs: this.options.windowMs };
    const bytes = this.bufferedBytes;
    this.impressions = [];
    this.feedback = [];
    this.reports = [];
    this.bufferedBytes = 0;
    this.inflightBytes = bytes;
    this.inflight = this.write(batch)
      .then((result) => {
        this.counters.written += result.impressions;
        this.onWritten?.(result);
      })
      .catch((err: unknown) => {
        // The database refused the batch (down, disk full): it is lost, and said so; ingest itself is unaffected.
        this.counters.failedBatches++;
        this.counters.dropped += batch.impressions.length;
        this.onError?.(err as Error);
      })
      .finally(() => {
        this.inflightBytes = 0;
        this.inflight = null;
      });
    await this.inflight;
  }

  /** Stops the timer and writes what is buffered. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.flush();
    this.closed = true;
  }
}
