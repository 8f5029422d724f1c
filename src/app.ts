import crypto from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { serializerCompiler } from 'fastify-type-provider-zod';
import { registerErrorHandler } from './api/error-handler.js';
import { registerNotFound } from './api/not-found.js';
import { healthRoutes } from './api/routes/health.js';
import { historyRoutes } from './api/routes/history.js';
import { ingestRoutes } from './api/routes/ingest.js';
import { zodValidatorCompiler } from './api/zod-compiler.js';
import type { Config } from './config.js';
import { closeDb, openDb, type Db } from './db/connection.js';
import { createEventsRepository } from './db/events-repository.js';
import { createHistoryRepository } from './db/history-repository.js';
import { migrate, readMigrations } from './db/migrate.js';
import { createRatingsRepository } from './db/ratings-repository.js';
import { loggerOptions } from './logger.js';
import { resolveAdminToken } from './admin-token.js';
import { adminRoutes } from './api/routes/admin.js';
import { recommendRoutes } from './api/routes/recommend.js';
import { createModelsRepository } from './db/models-repository.js';
import { createServingRepository } from './db/serving-repository.js';
import { initBackend, type BackendInfo } from './models/backend.js';
import { BullmqQueue } from './queue/bullmq.js';
import { InProcessQueue } from './queue/in-process.js';
import type { JobQueue } from './queue/job-queue.js';
import { ModelStore } from './serving/model-store.js';
import { PopularityRanking } from './serving/popularity.js';
import { Recommender } from './serving/recommender.js';
import { Catalogue } from './serving/catalogue.js';
import { createCatalogueRepository } from './db/catalogue-repository.js';
import { catalogueRoutes } from './api/routes/catalogue.js';

export interface AppServices {
  config: Config;
  db: Db;
  queue: JobQueue;
  store: ModelStore;
  recommender: Recommender;
  backend: BackendInfo;
}

declare module 'fastify' {
  interface FastifyInstance {
    services: AppServices;
  }
}

export interface BuildAppOptions {
  /** A logger instance to use instead of one built from config (tests pass a silent one). */
  logger?: FastifyBaseLogger;
}

/** The embedded queue runs jobs in this process; with REDIS_URL the API only enqueues to BullMQ. */
function createQueue(config: Config, db: Db, backend: BackendInfo, log: FastifyBaseLogger, store: ModelStore): JobQueue {
  if (config.redisUrl) return new BullmqQueue(db, config.redisUrl, config.queueName, { attempts: config.jobAttempts, backoffMs: config.jobBackoffMs });
  return new InProcessQueue({ db, config, backend, log, onCompleted: () => void store.refresh() });
}

const REQUEST_ID_HEADER = 'x-request-id';
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Builds the Fastify instance from a config: opens and migrates the database, wires
 * repositories into the routes. It never listens; `main.ts` does (tests call it in-process).
 */
export async function buildApp(config: Config, options: BuildAppOptions = {}): Promise<FastifyInstance> {
  const db = openDb(config.databasePath, {
    busyTimeoutMs: config.sqliteBusyTimeoutMs,
    synchronous: config.sqliteSynchronous,
  });
  let expectedMigrations: number;
  try {
    migrate(db, config.migrationsDir);
    expectedMigrations = readMigrations(config.migrationsDir).length;
  } catch (err) {
    closeDb(db);
    throw err;
  }

  const app = Fastify({
    ...(options.logger ? { loggerInstance: options.logger } : { logger: loggerOptions(config) }),
    bodyLimit: config.bodyLimitBytes,
    requestIdHeader: REQUEST_ID_HEADER,
    // Echo a well-formed client request id so logs can be joined across services; mint one otherwise.
    genReqId: (req) => {
      const incoming = req.headers[REQUEST_ID_HEADER];
      return typeof incoming === 'string' && SAFE_REQUEST_ID.test(incoming) ? incoming : crypto.randomUUID();
    },
    return503OnClosing: true,
  }) as unknown as FastifyInstance;

  app.setValidatorCompiler(zodValidatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  // Every body this API takes is JSON; anything else is a 415, not a confusing schema error.
  app.removeContentTypeParser('text/plain');
  registerErrorHandler(app);
  registerNotFound(app);
  app.addHook('onSend', async (request, reply) => {
    reply.header(REQUEST_ID_HEADER, request.id);
  });

  const backend = await initBackend(config.tfBackend, app.log);
  const models = createModelsRepository(db);
  const store = new ModelStore(models, app.log);
  await store.refresh();
  store.start(config.modelPollMs);
  const servingRepo = createServingRepository(db);
  const popularity = new PopularityRanking(servingRepo);
  const catalogueRepo = createCatalogueRepository(db);
  const catalogue = new Catalogue(catalogueRepo);
  const recommender = new Recommender(store, servingRepo, popularity, catalogue, {
    ratingMax: config.ratingMax,
    dislikeThreshold: config.dislikeThreshold,
    eventWeights: config.eventWeights,
    historyLimit: 10_000,
  });
  const queue = createQueue(config, db, backend, app.log, store);
  app.decorate('services', { config, db, queue, store, recommender, backend });
  // Close order: stop the queue (an in-process job is interrupted and requeued), then the database.
  app.addHook('onClose', async () => {
    store.close();
    await queue.close();
    closeDb(db);
  });

  const readiness = (): string[] => {
    try {
      db.prepare('SELECT 1').get();
      const applied = db.prepare('SELECT COUNT(*) FROM schema_migrations').pluck().get() as number;
      return applied === expectedMigrations ? [] : [`migrations applied ${applied}/${expectedMigrations}`];
    } catch (err) {
      return [`database: ${(err as Error).message}`];
    }
  };

  await app.register(healthRoutes, { readiness });
  await app.register(ingestRoutes, {
    ratings: createRatingsRepository(db),
    events: createEventsRepository(db),
    ratingMin: config.ratingMin,
    ratingMax: config.ratingMax,
    maxBatchSize: config.maxBatchSize,
  });
  await app.register(historyRoutes, { history: createHistoryRepository(db) });
  const adminToken = config.adminToken ?? resolveAdminToken(undefined, config.dataDir).token;
  await app.register(recommendRoutes, { recommender, adminToken });
  await app.register(catalogueRoutes, { catalogue: catalogueRepo, onChange: () => catalogue.reload(), maxBatchSize: config.maxBatchSize });
  await app.register(adminRoutes, {
    adminToken,
    queue,
    models,
    defaultModel: config.defaultModel,
    servingVersion: () => store.servingVersion,
    refreshServing: () => void store.refresh(),
  });
  return app;
}
