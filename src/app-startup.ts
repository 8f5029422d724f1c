import type { FastifyBaseLogger } from 'fastify';
import type { Config } from './config.js';
import type { OnlineBatchResult } from './db/online-repository.js';
import type { ModelsRepository } from './db/models-repository.js';
import type { Store } from './db/store.js';
import type { DatabaseThread } from './db/thread/database-thread.js';
import type { BackendInfo } from './models/backend.js';
import { OnlineEvaluation } from './online/online.js';
import type { Recommender } from './pipeline/recommender.js';
import { BullmqQueue } from './queue/bullmq.js';
import type { WorkerDeps } from './queue/execute.js';
import { InProcessQueue } from './queue/in-process.js';
import type { JobQueue } from './queue/job-queue.js';
import type { ModelStore } from './serving/model-store.js';
import { chooseServing } from './serving/serving-choice.js';

/** Pieces of the API's start-up that app.ts composes. */

/** The embedded queue runs jobs in this process; with REDIS_URL the API only enqueues to BullMQ. */
export function createQueue(config: Config, database: Store, backend: BackendInfo, log: FastifyBaseLogger, store: ModelStore, onAttempt: WorkerDeps['onAttempt']): JobQueue {
  if (config.redisUrl) return new BullmqQueue(database.jobs, config.redisUrl, config.queueName, {
      attempts: config.jobAttempts,
      backoffMs: config.jobBackoffMs,
      jobLockMs: config.jobLockMs,
      reconcileMs: config.jobReconcileMs,
      log,
    });
  return new InProcessQueue({ store: database, config, backend, log, onAttempt, onCompleted: () => void store.refresh() });
}

/** How often the reader thread copies the WAL into the database (the API connection hands it that work). */
export const WAL_CHECKPOINT_MS = 1000;

/** An explicit SERVING_MODEL is applied at every start; a model with nothing trained yet is pinned anyway (it serves once trained). */
export async function applyServingModel(models: ModelsRepository, config: Config, log: FastifyBaseLogger): Promise<void> {
  if (!config.servingModel) return;
  if (config.servingModel === 'auto' || (await models.active(config.servingModel))) await chooseServing(models, config.servingModel, undefined, 'SERVING_MODEL', Date.now());
  else await models.setServing({ mode: 'pinned', model: config.servingModel, setBy: 'SERVING_MODEL' }, Date.now());
  log.info({ serving: await models.servingChoice() }, 'serving model from SERVING_MODEL');
}

/** Online evaluation started: impressions logged by `thread`, experiments read, metrics recomputed every STATS_REFRESH_MS. */
export async function startOnline(config: Config, database: Store, thread: DatabaseThread, recommender: Recommender, store: ModelStore, log: FastifyBaseLogger, onWritten: (r: OnlineBatchResult) => void): Promise<OnlineEvaluation> {
  const online = new OnlineEvaluation({
    config: config.online,
    repo: database.online,
    thread,
    recommender,
    store,
    refreshMs: config.statsRefreshMs,
    log,
    isPositive: (type, rating) => (type === 'rating' ? rating !== null && rating > config.dislikeThreshold : (config.eventWeights[type] ?? 0) > 0),
    onWritten,
  });
  await online.start();
  return online;
}

/**
 * Where ingest writes go: on SQLite, the writer thread's connection (a batch commits off the
 * event loop, and one connection writes ingest so they never wait on each other); on PostgreSQL,
 * the pool (the work is the server's, the loop only awaits it).
 */
export function ingestRepositories(database: Store, writer: DatabaseThread): Pick<Store, 'ratings' | 'events'> {
  if (database.backend !== 'sqlite') return database;
  return {
    ratings: { ...database.ratings, upsert: (ratings) => writer.upsertRatings(ratings) },
    events: { ...database.events, insert: (events) => writer.insertEvents(events) },
  };
}
