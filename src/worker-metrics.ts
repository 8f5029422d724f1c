import http from 'node:http';
import { collectDefaultMetrics, Histogram, Registry } from 'prom-client';

export interface WorkerMetrics {
  /** Records one attempt (the worker's own, like the API's histogram of the same name). */
  observe(model: string, outcome: 'completed' | 'failed' | 'cancelled', seconds: number): void;
  close(): Promise<void>;
}

/**
 * The worker's Prometheus endpoint (`GET /metrics` on WORKER_METRICS_PORT): process and Node.js
 * metrics under their standard names, and the duration of the training attempts it ran.
 */
export async function serveWorkerMetrics(port: number, host: string): Promise<WorkerMetrics> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const attempts = new Histogram({
    name: 'recflow_training_job_duration_seconds',
    help: 'Training job attempts run in this worker, by model and outcome',
    labelNames: ['model', 'outcome'] as const,
    buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600],
    registers: [registry],
  });
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      () => res.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  return {
    observe: (model, outcome, seconds) => attempts.observe({ model, outcome }, seconds),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
