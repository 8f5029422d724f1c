import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { JobsRepository } from './db/jobs-repository.js';
import type { JobQueue } from './queue/job-queue.js';
import type { ModelStore } from './serving/model-store.js';

/**
 * The service's Prometheus metrics, one registry per app instance (tests build many apps in
 * one process). Gauges about models, jobs and the queue are read when scraped.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly httpDuration = new Histogram({
    name: 'recflow_http_request_duration_seconds',
    help: 'HTTP request duration by route and status',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly ingested = new Counter({
    name: 'recflow_ingested_total',
    help: 'Ratings and events written (inserted or updated)',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly answers = new Counter({
    name: 'recflow_recommendation_answers_total',
    help: 'Recommendation and similar-item answers by source (model or popularity fallback), the model that answered and how (trained, fold-in, popularity)',
    labelNames: ['route', 'source', 'model', 'method'] as const,
    registers: [this.registry],
  });
  /** Label values are the configured source names (plus pin:<rule>): bounded by the configuration, never by the data. */
  readonly slots = new Counter({
    name: 'recflow_pipeline_slots_total',
    help: 'Items served by the recommendation pipeline, by route and the source credited with each item',
    labelNames: ['route', 'source'] as const,
    registers: [this.registry],
  });
  readonly keyRequests = new Counter({
    name: 'recflow_key_requests_total',
    help: 'Authenticated requests by key name and outcome (ok, client_error, server_error, rate_limited)',
    labelNames: ['key', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly keyBytes = new Counter({
    name: 'recflow_key_request_bytes_total',
    help: 'Request body bytes declared by authenticated callers, by key name',
    labelNames: ['key'] as const,
    registers: [this.registry],
  });
  readonly authFailures = new Counter({
    name: 'recflow_auth_failures_total',
    help: 'Requests refused before validation: no or unknown key (401), key without the scope (403)',
    labelNames: ['status'] as const,
    registers: [this.registry],
  });
  readonly jobDuration = new Histogram({
    name: 'recflow_training_job_duration_seconds',
    help: 'Training job attempts run in this process, by model and outcome',
    labelNames: ['model', 'outcome'] as const,
    buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600],
    registers: [this.registry],
  });

  constructor(sources: { store: ModelStore; jobs: JobsRepository; queue: JobQueue; cache: { hits: number; misses: number; size: number; bytes: number }; inflightBodyBytes: () => number }) {
    // Standard names (process_*, nodejs_*) so stock dashboards and alerts work unchanged.
    collectDefaultMetrics({ register: this.registry });
    new Gauge({
      name: 'recflow_active_model_info',
      help: 'Model versions loaded for serving (value 1; serving=1 marks the default one)',
      labelNames: ['model', 'version', 'serving'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        const serving = sources.store.servingVersion;
        for (const index of sources.store.loaded()) this.set({ model: index.modelName, version: index.version, serving: String(index.version === serving) }, 1);
      },
    });
    new Gauge({
      name: 'recflow_active_model_metric',
      help: 'Validation and test metrics of the loaded model versions',
      labelNames: ['model', 'split', 'metric'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const index of sources.store.loaded()) {
          for (const split of ['valid', 'test'] as const) {
            for (const [metric, value] of Object.entries(index.metrics[split])) this.set({ model: index.modelName, split, metric }, value);
          }
        }
      },
    });
    new Gauge({
      name: 'recflow_training_jobs',
      help: 'Training jobs by state (all processes, from the database)',
      labelNames: ['state'] as const,
      registers: [this.registry],
      async collect() {
        for (const [state, n] of Object.entries(await sources.jobs.countByState())) this.set({ state }, n);
      },
    });
    new Gauge({
      name: 'recflow_recommendation_cache',
      help: 'Recommendation answer cache: hits and misses since start, entries and estimated bytes held',
      labelNames: ['stat'] as const,
      registers: [this.registry],
      collect() {
        this.set({ stat: 'hits' }, sources.cache.hits);
        this.set({ stat: 'misses' }, sources.cache.misses);
        this.set({ stat: 'entries' }, sources.cache.size);
        this.set({ stat: 'bytes' }, sources.cache.bytes);
      },
    });
    new Gauge({
      name: 'recflow_inflight_body_bytes',
      help: 'Bytes of request bodies being received now (bounded by INFLIGHT_BODY_BYTES)',
      registers: [this.registry],
      collect() {
        this.set(sources.inflightBodyBytes());
      },
    });
    new Gauge({
      name: 'recflow_queue_depth',
      help: 'Training jobs waiting to run',
      registers: [this.registry],
      async collect() {
        this.set(await sources.queue.depth());
      },
    });
  }
}
