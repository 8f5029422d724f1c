import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { jsonSchemaTransform } from 'fastify-type-provider-zod';
import { metaRoutes } from './api/routes/meta.js';
import { createJobsRepository } from './db/jobs-repository.js';
import { Metrics } from './metrics.js';
import { removeStaleTempDirs } from './serving/snapshots.js';
import { autoRetrainer, scheduleRetrains } from './queue/auto-retrain.js';
import type { WorkerDeps } from './queue/execute.js';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { serializerCompiler } from 'fastify-type-provider-zod';
import { registerErrorHandler } from './api/error-handler.js';
import { registerInflightBodyLimit } from './api/inflight-bytes.js';
import { registerNotFound } from './api/not-found.js';
import { healthRoutes } from './api/routes/health.js';
import { historyRoutes } from './api/routes/history.js';
import { ingestRoutes } from './api/routes/ingest.js';
import { zodValidatorCompiler } from './api/zod-compiler.js';
import type { Config } from './config.js';
import { closeDb, handOffCheckpoints, openDb, type Db } from './db/connection.js';
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
import { DatabaseThread } from './serving/database-thread.js';
import { POPULARITY_DEFAULTS, PopularityRanking } from './serving/popularity.js';
import { Recommender } from './serving/recommender.js';
import { Catalogue } from './serving/catalogue.js';
import { createCatalogueRepository } from './db/catalogue-repository.js';
import { catalogueRoutes } from './api/routes/catalogue.js';

export const OPENAPI_PATH = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'openapi.yaml');
const PACKAGE_VERSION = (JSON.parse(fs.readFileSync(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'package.json'), 'utf8')) as { version: string }).version;

export interface AppServices {
  config: Config;
  db: Db;
  queue: JobQueue;
  store: ModelStore;
  recommender: Recommender;
  /** The thread that runs O(data) reads (popularity, catalogue reloads). */
  reader: DatabaseThread;
  writer: DatabaseThread;
  popularity: PopularityRanking;
  backend: BackendInfo;
  metrics: Metrics;
  routes: readonly RegisteredRoute[];
}

export interface RegisteredRoute {
  method: string;
  url: string;
  /** Left out of the OpenAPI document (metrics, the document itself, Swagger UI). */
  hidden: boolean;
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
function createQueue(config: Config, db: Db, backend: BackendInfo, log: FastifyBaseLogger, store: ModelStore, onAttempt: WorkerDeps['onAttempt']): JobQueue {
  if (config.redisUrl) return new BullmqQueue(db, config.redisUrl, config.queueName, { attempts: config.jobAttempts, backoffMs: config.jobBackoffMs });
  return new InProcessQueue({ db, config, backend, log, onAttempt, onCompleted: () => void store.refresh() });
}

/** Request duration per route template (never the raw URL: ids would explode the label set). */
function registerRequestMetrics(app: FastifyInstance, metrics: Metrics): void {
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.httpDuration.observe({ method: request.method, route, status_code: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });
}

/** OpenAPI from the routes' zod schemas (Swagger UI at /docs); the committed openapi.yaml is served as is. */
async function registerDocs(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'recflow', version: PACKAGE_VERSION, description: 'Recommendation microservice: ingest ratings and events, train DMF/NeuMF/EINMF, serve top-N and similar items.' },
      components: { securitySchemes: { adminBearer: { type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN' } } },
    },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
}

const REQUEST_ID_HEADER = 'x-request-id';
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
/** How often the reader thread copies the WAL into the database (the API connection hands it that work). */
const WAL_CHECKPOINT_MS = 1000;

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
    // Node checks request timeouts every connectionsCheckingInterval (30 s by default); check
    // often enough that REQUEST_TIMEOUT_MS means what it says.
    serverFactory: (handler) =>
      http.createServer(
        {
          requestTimeout: config.requestTimeoutMs,
          connectionsCheckingInterval: config.requestTimeoutMs > 0 ? Math.min(1000, Math.max(100, Math.floor(config.requestTimeoutMs / 3))) : 30_000,
        },
        handler,
      ),
  }) as unknown as FastifyInstance;

  // Every registered route, for the OpenAPI drift test and for operators (GET /docs lists them too).
  const routes: RegisteredRoute[] = [];
  app.addHook('onRoute', (r) => {
    const methods = Array.isArray(r.method) ? r.method : [r.method];
    const hidden = Boolean((r.schema as { hide?: boolean } | undefined)?.hide);
    for (const method of methods) routes.push({ method: String(method), url: r.url, hidden });
  });
  app.setValidatorCompiler(zodValidatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  // Every body this API takes is JSON; anything else is a 415, not a confusing schema error.
  app.removeContentTypeParser('text/plain');
  registerErrorHandler(app);
  registerNotFound(app);
  const inflightBodies = registerInflightBodyLimit(app, config.inflightBodyBytes);
  app.addHook('onSend', async (request, reply) => {
    reply.header(REQUEST_ID_HEADER, request.id);
  });

  const backend = await initBackend(config.tfBackend, app.log);
  const models = createModelsRepository(db);
  const store = new ModelStore(models, app.log, { annMinItems: config.annMinItems });
  await store.refresh();
  store.start(config.modelPollMs);
  const servingRepo = createServingRepository(db);
  // O(data) reads (popularity, full catalogue reloads) and batch catalogue writes run on threads with their own connections.
  const reader = new DatabaseThread(config.databasePath, config.sqliteBusyTimeoutMs, WAL_CHECKPOINT_MS);
  const writer = new DatabaseThread(config.databasePath, config.sqliteBusyTimeoutMs);
  handOffCheckpoints(db);
  const popularity = new PopularityRanking(reader, config.popularityRefreshMs, POPULARITY_DEFAULTS, app.log);
  const catalogueRepo = createCatalogueRepository(db);
  const catalogue = new Catalogue({ version: () => catalogueRepo.version(), load: () => reader.catalogueRows() }, Date.now, app.log);
  await Promise.all([popularity.start(), catalogue.load()]);
  const recommender = new Recommender(store, servingRepo, popularity, catalogue, {
    ratingMax: config.ratingMax,
    dislikeThreshold: config.dislikeThreshold,
    eventWeights: config.eventWeights,
    historyLimit: config.historyLimit,
    cacheEntries: config.recommendationCacheSize,
    cacheBytes: config.recommendationCacheBytes,
    cacheTtlMs: config.recommendationCacheTtlMs,
  });
  const jobsRepo = createJobsRepository(db);
  let metrics: Metrics | null = null;
  const queue = createQueue(config, db, backend, app.log, store, (model, outcome, seconds) => metrics?.jobDuration.observe({ model, outcome }, seconds));
  metrics = new Metrics({ store, jobs: jobsRepo, queue, cache: recommender.cache, inflightBodyBytes: inflightBodies.current });
  if (queue.kind === 'in-process') void removeStaleTempDirs(config.modelDir);
  const registry = metrics.registry;
  app.decorate('services', { config, db, queue, store, recommender, reader, writer, popularity, backend, metrics, routes });
  registerRequestMetrics(app, metrics);
  const schedule = config.retrainCron ? scheduleRetrains(db, models, queue, config.defaultModel, { expression: config.retrainCron, tz: config.retrainCronTz }, app.log) : null;
  // Close order: stop the schedule and the queue (an in-process job is interrupted and requeued), then the database.
  app.addHook('onClose', async () => {
    schedule?.stop();
    store.close();
    popularity.stop();
    await queue.close();
    await Promise.all([reader.close(), writer.close()]);
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

  await registerDocs(app);
  await app.register(rateLimit, { global: false });
  const limited = config.rateLimitMax > 0 ? { max: config.rateLimitMax, timeWindow: '1 minute' } : null;
  await app.register(healthRoutes, { readiness });
  await app.register(metaRoutes, { registry, openapiPath: OPENAPI_PATH });
  await app.register(ingestRoutes, {
    ratings: createRatingsRepository(db),
    events: createEventsRepository(db),
    ratingMin: config.ratingMin,
    ratingMax: config.ratingMax,
    maxBatchSize: config.maxBatchSize,
    rateLimit: limited,
    onIngest: (kind, users, written) => {
      recommender.interactionsChanged(users);
      popularity.changed();
      metrics.ingested.inc({ kind }, written);
      retrainIfDue();
    },
  });
  await app.register(historyRoutes, { history: createHistoryRepository(db) });
  const adminToken = config.adminToken ?? resolveAdminToken(undefined, config.dataDir).token;
  await app.register(recommendRoutes, { recommender, adminToken, onAnswer: (route, source) => metrics.answers.inc({ route, source }) });
  const retrainIfDue = autoRetrainer(db, models, queue, config.defaultModel, config.retrainEvery, app.log);
  await app.register(catalogueRoutes, {
    catalogue: catalogueRepo,
    writes: writer,
    onChange: (changes, version) => catalogue.apply(changes, version),
    onUserErased: (userId) => recommender.interactionsChanged([userId]),
    maxBatchSize: config.maxBatchSize,
    adminToken,
    rateLimit: limited,
  });
  await app.register(adminRoutes, {
    adminToken,
    rateLimit: limited,
    queue,
    models,
    defaultModel: config.defaultModel,
    servingVersion: () => store.servingVersion,
    refreshServing: () => void store.refresh(),
  });
  return app;
}
