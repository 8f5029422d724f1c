import { Counter, Gauge, type Registry } from 'prom-client';
import type { OnlineBatchResult } from '../db/online-repository.js';
import type { ImpressionLog } from './log.js';

/**
 * Prometheus series of online evaluation. Labels are bounded by the configuration (routes, event
 * types, model names, experiment variant names), never by users or items.
 */
export class OnlineMetrics {
  readonly impressions: Counter<'route' | 'variant'>;
  readonly attributed: Counter<'type' | 'exact' | 'model' | 'variant'>;
  readonly unknownReports: Counter;

  constructor(registry: Registry, log: () => ImpressionLog | null) {
    this.impressions = new Counter({
      name: 'recflow_impressions_total',
      help: 'Recommendation answers shown (logged as impressions), by route and experiment variant (none outside experiments)',
      labelNames: ['route', 'variant'] as const,
      registers: [registry],
    });
    this.attributed = new Counter({
      name: 'recflow_attributed_feedback_total',
      help: 'Feedback attributed to a shown item, by type, whether the client sent the recommendationId (exact) or it matched by user, item and window, the model and the variant',
      labelNames: ['type', 'exact', 'model', 'variant'] as const,
      registers: [registry],
    });
    this.unknownReports = new Counter({
      name: 'recflow_impression_reports_unknown_total',
      help: 'Seen reports (POST /impressions) naming an answer the database does not hold: a recommendationId never issued, dropped, or past retention',
      registers: [registry],
    });
    new Gauge({
      name: 'recflow_impressions_dropped',
      help: 'Impressions not written since start: the buffer was full (IMPRESSION_BUFFER_BYTES) or the database refused the batch',
      registers: [registry],
      collect() {
        this.set(log()?.counters.dropped ?? 0);
      },
    });
    new Gauge({
      name: 'recflow_impression_buffer_bytes',
      help: 'Bytes of impressions and feedback waiting for the database or being written',
      registers: [registry],
      collect() {
        this.set(log()?.bytes ?? 0);
      },
    });
  }

  written(result: OnlineBatchResult): void {
    if (result.unknownReports > 0) this.unknownReports.inc(result.unknownReports);
    for (const a of result.attributed) this.attributed.inc({ type: a.type, exact: String(a.exact), model: a.model, variant: a.variant ?? 'none' });
  }
}
