import type { OnlineConfig } from '../config/online.js';
import type { OnlineBatchResult, OnlineRepository } from '../db/online-repository.js';
import type { DatabaseThread } from '../db/thread/database-thread.js';
import type { Recommender } from '../pipeline/recommender.js';
import type { ModelStore } from '../serving/model-store.js';
import { ExperimentBook } from './experiments.js';
import { ImpressionLog } from './log.js';
import { OnlineMonitor } from './monitor.js';
import { OnlineServing } from './serving.js';

export interface OnlineDeps {
  config: OnlineConfig;
  repo: OnlineRepository;
  /** The database thread that writes impressions and computes the aggregates (its own connection). */
  thread: DatabaseThread;
  recommender: Recommender;
  store: ModelStore;
  /** How often the metrics and reports are recomputed and the running experiment re-read. */
  refreshMs: number;
  log: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
  onWritten?: (result: OnlineBatchResult) => void;
  /** Whether a rating (type `rating`, with its value) or an event type is positive feedback. */
  isPositive: (type: string, rating: number | null) => boolean;
}

/** A rating (type `rating`, with its value) or event as the ingest routes wrote it, with the recommendationId the client sent back. */
export interface WrittenFeedback {
  userId: string;
  itemId: string;
  type: string;
  rating: number | null;
  at: number;
  recommendationId?: string;
}

/** Online evaluation, assembled: the impression log, experiments, the monitor and the serving wrapper. */
export class OnlineEvaluation {
  readonly log: ImpressionLog | null;
  readonly book: ExperimentBook;
  readonly monitor: OnlineMonitor;
  readonly serving: OnlineServing;

  constructor(readonly deps: OnlineDeps) {
    const { config, thread } = deps;
    this.book = new ExperimentBook(deps.repo);
    this.monitor = new OnlineMonitor(thread, this.book, { refreshMs: deps.refreshMs, k: config.ctrK, retentionDays: config.retentionDays, windowMs: config.attributionWindowMs }, deps.log);
    this.log = config.impressions
      ? new ImpressionLog((batch) => thread.recordOnline(batch), { maxBytes: config.bufferBytes, flushMs: config.flushMs, windowMs: config.attributionWindowMs })
      : null;
    if (this.log) {
      this.log.onWritten = (result) => {
        this.monitor.changed();
        deps.onWritten?.(result);
      };
      let lastWarned = 0;
      this.log.onError = (err) => {
        // One line a minute at most while the database refuses batches.
        if (Date.now() - lastWarned < 60_000) return;
        lastWarned = Date.now();
        deps.log.error({ err: err.message }, 'impressions not written (the batch is dropped; recommendations are unaffected)');
      };
    }
    this.book.onChange = () => this.monitor.changed();
    this.serving = new OnlineServing(deps.recommender, deps.store, this.log, this.book, { share: config.explorationShare, pool: config.explorationPool });
  }

  /** Queues written feedback for attribution to the impressions that showed its items. */
  feedback(list: readonly WrittenFeedback[]): void {
    if (!this.log) return;
    this.log.feedbackOf(
      list.map((f) => ({ userId: f.userId, itemId: f.itemId, type: f.type, positive: this.deps.isPositive(f.type, f.rating), at: f.at, ...(f.recommendationId ? { recommendationId: f.recommendationId } : {}) })),
    );
  }

  async start(): Promise<void> {
    await this.book.start(this.deps.refreshMs);
    this.log?.start();
    this.monitor.start();
  }

  async close(): Promise<void> {
    this.monitor.stop();
    this.book.close();
    await this.log?.close();
  }
}
