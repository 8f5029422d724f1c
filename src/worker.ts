#!/usr/bin/env node
import { closeSync, openSync, realpathSync, utimesSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { ConfigError, loadConfig, type Config } from './config.js';
import { openStore, type Store } from './db/store.js';
import { loggerOptions } from './logger.js';
import { initBackend } from './models/backend.js';
import { startBullmqWorker } from './queue/bullmq.js';
import { installShutdown } from './shutdown.js';
import { serveWorkerMetrics, type WorkerMetrics } from './worker-metrics.js';
import { installSnapshotFaults } from './serving/snapshots.js';
import { openSnapshotStore } from './snapshots/open.js';

/**
 * The training worker: consumes BullMQ retrain jobs from REDIS_URL and writes snapshots to
 * MODEL_DIR and records to the shared SQLite database. SIGTERM/SIGINT stop taking jobs and wait
 * for the running one up to SHUTDOWN_TIMEOUT_MS; after that the process exits and BullMQ's
 * stalled-job check gives the job to a worker again.
 */
export async function runWorker(config: Config): Promise<void> {
  const log = pino(loggerOptions(config));
  if (!config.redisUrl) {
    throw new ConfigError('REDIS_URL', 'is required for the worker (without it, the API runs training jobs in-process)');
  }
  // Node leaves SIGTERM at the OS default (terminate) until a listener exists, so signals are
  // handled before anything opens: a SIGTERM during start-up (backend, Redis handshake) still
  // closes whatever has been opened and exits 0.
  let store: Store | null = null;
  let worker: { close: () => Promise<void> } | null = null;
  let heartbeat: NodeJS.Timeout | null = null;
  let metrics: WorkerMetrics | null = null;
  installShutdown(
    async () => {
      if (heartbeat) clearInterval(heartbeat);
      await worker?.close();
      await metrics?.close();
      await store?.close();
    },
    config.shutdownTimeoutMs,
    log,
    {
      stopping: 'worker stopping: no new jobs, waiting for the running one',
      timedOut: 'running job did not finish in time; exiting (it will be retried)',
      stopped: 'worker stopped',
    },
  );
  store = await openStore(config, { migrate: true });
  const backend = await initBackend(config.tfBackend, log);
  const stale = await openSnapshotStore(config, store).removeIncomplete();
  if (stale) log.info({ removed: stale }, 'removed snapshot writes and uploads that never finished');
  if (installSnapshotFaults(config)) log.warn({ delayMs: config.faultSnapshotDelayMs, error: config.faultSnapshotError }, 'FAULT_SNAPSHOT_* is set: snapshot writes are faulted before their rename (testing only)');
  metrics = config.workerMetricsPort > 0 ? await serveWorkerMetrics(config.workerMetricsPort, config.host) : null;
  worker = await startBullmqWorker({ store, config, backend, log, onAttempt: (model, outcome, seconds) => metrics?.observe(model, outcome, seconds) }, config.redisUrl);
  log.info({ queue: config.queueName, backend: backend.name, metricsPort: config.workerMetricsPort || null }, 'worker started');
  heartbeat = config.workerHeartbeatFile ? startHeartbeat(config.workerHeartbeatFile) : null;
}

/** Touches `file` every 10 s: the container health check reads its age. */
function startHeartbeat(file: string): NodeJS.Timeout {
  const touch = (): void => {
    const now = new Date();
    try {
      utimesSync(file, now, now);
    } catch {
      closeSync(openSync(file, 'a'));
    }
  };
  touch();
  const timer = setInterval(touch, 10_000);
  timer.unref();
  return timer;
}

const invokedPath = process.argv[1] ? realpathSync(process.argv[1]) : '';
if (invokedPath === fileURLToPath(import.meta.url)) {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    process.stderr.write(`recflow worker: ${(err as Error).message}\n`);
    process.exit(2);
  }
  runWorker(config).catch((err: unknown) => {
    process.stderr.write(`recflow worker: ${(err as Error).message}\n`);
    process.exit(err instanceof ConfigError ? 2 : 1);
  });
}
