import type { ExperimentMode, OnlineDays, VariantSums } from '../db/online-repository.js';
import { experimentReport, type ExperimentReport } from './experiment-report.js';
import type { Experiment, ExperimentBook } from './experiments.js';

/** The reads the monitor asks of a database thread (their cost grows with the traffic). */
export interface OnlineReads {
  onlineDays(since: number, k: number): Promise<OnlineDays>;
  variantSums(experimentId: string, mode: ExperimentMode, metric: string, first: string): Promise<VariantSums[]>;
  purgeImpressions(before: number): Promise<number>;
}

interface Log {
  warn(obj: object, msg: string): void;
}

const PURGE_EVERY_MS = 3_600_000;

/**
 * Keeps the online metrics and every open experiment's report ready for requests: recomputed in
 * a database thread every `refreshMs` while new impressions or feedback arrived, and the sequential
 * tests evaluated at each look (a decision, once reached, is recorded). Impressions past retention
 * are deleted hourly.
 */
export class OnlineMonitor {
  private daysValue: OnlineDays | null = null;
  private daysAt: number | null = null;
  private readonly reports = new Map<string, ExperimentReport>();
  private dirty = true;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private lastPurge = 0;

  constructor(
    private readonly reads: OnlineReads,
    private readonly book: ExperimentBook,
    private readonly options: { refreshMs: number; k: number; retentionDays: number },
    private readonly log: Log,
    private readonly now: () => number = Date.now,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.options.refreshMs);
    this.timer.unref();
    void this.tick();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** New impressions or feedback were written: the next tick recomputes. */
  changed(): void {
    this.dirty = true;
  }

  get days(): { value: OnlineDays | null; at: number | null } {
    return { value: this.daysValue, at: this.daysAt };
  }

  report(id: string): ExperimentReport | undefined {
    return this.reports.get(id);
  }

  /** Recomputes now (after the run in progress), whether or not anything changed. */
  async refresh(): Promise<void> {
    while (this.running) await this.running;
    this.running = this.compute().finally(() => (this.running = null));
    await this.running;
  }

  private async tick(): Promise<void> {
    if (this.running) return;
    try {
      if (this.now() - this.lastPurge >= PURGE_EVERY_MS) {
        this.lastPurge = this.now();
        await this.reads.purgeImpressions(this.now() - this.options.retentionDays * 86_400_000);
      }
      if (this.dirty) await this.refresh();
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'online metrics not refreshed');
    }
  }

  private async compute(): Promise<void> {
    this.dirty = false;
    const at = this.now();
    this.daysValue = await this.reads.onlineDays(at - this.options.retentionDays * 86_400_000, this.options.k);
    this.daysAt = at;
    for (const e of await this.book.list()) {
      if (e.status === 'concluded' && this.reports.has(e.id)) continue;
      await this.reportOn(e, at);
    }
  }

  /** Computes one experiment's report and records a decision the test reached at this look. */
  async reportOn(e: Experiment, at: number): Promise<ExperimentReport> {
    const sums = await this.reads.variantSums(e.id, e.mode, e.spec.metric, e.spec.variants[0].name);
    const report = experimentReport(e, sums, at);
    if (report.reached && e.status !== 'concluded') await this.book.decide(e.id, report.reached);
    this.reports.set(e.id, report);
    return report;
  }
}
