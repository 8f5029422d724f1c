import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { registerAccessControl } from './api/access.js';
import { registerInflightBodyLimit } from './api/inflight-bytes.js';
import { adminRoutes } from './api/routes/admin.js';
import { catalogueRoutes } from './api/routes/catalogue.js';
import { healthRoutes } from './api/routes/health.js';
import { historyRoutes } from './api/routes/history.js';
import { ingestRoutes } from './api/routes/ingest.js';
import { keyRoutes } from './api/routes/keys.js';
import { metaRoutes } from './api/routes/meta.js';
import { recommendRoutes } from './api/routes/recommend.js';
import { createServer, registerDocs, registerRequestMetrics, type RegisteredRoute } from './api/server.js';
import { setUpAccess, type Access } from './auth/setup.js';
import { deploymentRedis } from './cluster/redis.js';
import { bulkRoutes } from './api/routes/bulk.js';
import { registerStorageHealth } from './api/storage-health.js';
import { createImportSink } from './api/import-sink.js';
import { servingAdminRoutes } from './api/routes/serving-admin.js';
import { DASHBOARD_PREFIX, dashboardRoutes } from './api/routes/dashboard.js';
import { statsRoutes } from './api/routes/stats.js';
import { configRoutes } from './api/routes/config.js';
import { effectiveConfig } from './config/effective.js';
import { dataStatsMonitor } from './stats/data-stats.js';
import { ServingSeries, type ServingInterval } from './stats/serving-series.js';
import { DeploymentSeries } from './stats/deployment-series.js';
import { chooseServing } from './serving/serving-choice.js';
import type { Config } from './config.js';
import { openStore, type Store } from './db/store.js';
import { Metrics } from './metrics.js';
import { initBackend, type BackendInfo } from './models/backend.js';
import { autoRetrainer, scheduleRetrains } from './queue/auto-retrain.js';
import type { JobQueue } from './queue/job-queue.js';
import { Catalogue, type CatalogueChange } from './serving/catalogue.js';
import { DatabaseThread } from './db/thread/database-thread.js';
import { ModelStore } from './serving/model-store.js';
import { ItemQueries } from './pipeline/item-queries.js';
import { FeatureKeeper } from './pipeline/feature-keeper.js';
import { Recommender } from './pipeline/recommender.js';
import { LeaderboardBook } from './pipeline/sources/leaderboards.js';
import { localCopyOf, openSnapshotStore, releaseLocalCopy } from './snapshots/open.js';
import { applyServingModel, createQueue, ingestRepositories, startOnline, WAL_CHECKPOINT_MS } from './app-startup.js';
import { OnlineMetrics } from './online/metrics.js';
import type { OnlineEvaluation } from './online/online.js';
import { onlineRoutes } from './api/routes/online.js';
import type { ModelName } from './models/model.js';

export type { RegisteredRoute } from './api/server.js';

const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const OPENAPI_PATH = path.join(PACKAGE_ROOT, 'openapi.yaml');
/** Where `npm run build` puts the dashboard (vite.config.ts). */
const DEFAULT_DASHBOARD_DIR = path.join(PACKAGE_ROOT, 'dist', 'web');
const PACKAGE_VERSION = (JSON.parse(fs.readFileSync(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'package.json'), 'utf8')) as { version: string }).version;

export interface AppServices {
  config: Config;
  /** The database (SQLite or PostgreSQL) behind every repository. */
  database: Store;
  /** Who may call what (AUTH, keys, the admin token). */
  access: Access;
  queue: JobQueue;
  store: ModelStore;
  recommender: Recommender;
  queries: ItemQueries;
  /** The thread that runs O(data) reads (leaderboards, catalogue reloads, dashboard figures). */
  reader: DatabaseThread;
  writer: DatabaseThread;
  leaderboards: LeaderboardBook;
  /** Impressions, attribution, experiments and the online metrics. */
  online: OnlineEvaluation;
  backend: BackendInfo;
  metrics: Metrics;
  routes: readonly RegisteredRoute[];
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

/**
 * Builds the Fastify instance from a config: opens and migrates the database, wires
 * repositories into the routes. It never listens; `main.ts` does (tests call it in-process).
 */
export async function buildApp(config: Config, options: BuildAppOptions = {}): Promise<FastifyInstance> {
  // The API's SQLite connection leaves WAL checkpoints to the reader thread (database.maintain).
  const database = await openStore(config, { migrate: true, handOffCheckpoints: true });
  const { app, routes } = createServer(config, options.logger);
  const access = await setUpAccess(config, database.keys, app.log);
  let metrics: Metrics | null = null;
  // Authentication is the first onRequest hook: nothing is read or validated for an unknown caller.
  const cluster = deploymentRedis(config);
  app.addHook('onClose', async () => cluster?.close());
  await registerAccessControl(app, {
    authenticate: access.authenticate,
    ...(cluster ? { shared: { redis: cluster.redis, prefix: cluster.prefix('limits') } } : {}),
    publicPrefixes: [DASHBOARD_PREFIX, ...(config.docsPublic ? ['/docs'] : [])],
    observe: {
      failure: (status) => metrics?.authFailures.inc({ status: String(status) }),
      request: (key, outcome) => metrics?.keyRequests.inc({ key, outcome }),
      bytes: (key, n) => metrics?.keyBytes.inc({ key }, n),
    },
  });
  const inflightBodies = registerInflightBodyLimit(app, config.inflightBodyBytes);

  const backend = await initBackend(config.tfBackend, app.log);
  const models = database.models;
  await applyServingModel(models, config, app.log);
  const snapshots = openSnapshotStore(config, database);
  const store = new ModelStore(models, app.log, { annMinItems: config.annMinItems }, localCopyOf(snapshots, config.modelDir), releaseLocalCopy(snapshots, config.modelDir));
  await store.refresh();
  store.start(config.modelPollMs);
  // O(data) reads (leaderboards, full catalogue reloads) and batch catalogue writes run on threads with their own connections.
  const reader = new DatabaseThread(config, WAL_CHECKPOINT_MS);
  const writer = new DatabaseThread(config);
  const leaderboards = new LeaderboardBook(reader, config.pipeline, { refreshMs: config.popularityRefreshMs, dislikeThreshold: config.dislikeThreshold, eventWeights: config.eventWeights }, app.log);
  const catalogueRepo = database.catalogue;
  const catalogue = new Catalogue({ version: () => catalogueRepo.version(), load: () => reader.catalogueRows() }, Date.now, app.log);
  const dataStats = dataStatsMonitor(reader, config.statsRefreshMs, app.log);
  await Promise.all([leaderboards.start(), catalogue.load(), dataStats.start()]);
  // New items with labels get vectors from the serving hybrid model's features at once.
  const featureKeeper = new FeatureKeeper(store, catalogue, config.features);
  const recommender = new Recommender(store, database.serving, leaderboards, catalogue, config.pipeline, {
    ratingMax: config.ratingMax,
    dislikeThreshold: config.dislikeThreshold,
    features: config.features,
    eventWeights: config.eventWeights,
    historyLimit: config.historyLimit,
    cacheEntries: config.recommendationCacheSize,
    cacheBytes: config.recommendationCacheBytes,
    cacheTtlMs: config.recommendationCacheTtlMs,
  }, featureKeeper.content);
  const queries = new ItemQueries(recommender, database.serving, leaderboards, catalogue, featureKeeper.content);
  const logCold = (err: unknown): void => app.log.error({ err: (err as Error).message }, 'cold items not refreshed');
  store.onSwap = () => void featureKeeper.sync().catch(logCold);
  catalogue.onReload = () => void featureKeeper.reloaded().catch(logCold);
  await featureKeeper.rebuildContent();
  await featureKeeper.sync();
  // Other processes' news: a new version serves (a worker's promotion, another replica's admin call)
  // reloads now, not at the next poll; users who wrote through another replica lose their cached answers.
  const stopListening = await database.onChange((change) => {
    if (change.kind === 'serving') void store.refresh();
    else if (change.users === 'all') recommender.clearCache();
    else recommender.interactionsChanged(change.users);
  });
  // Impressions are written, and online metrics computed, by a thread of their own: a slow batch never delays a catalogue write.
  const onlineThread = new DatabaseThread(config);
  let onlineMetrics: OnlineMetrics | null = null;
  const online = await startOnline(config, database, onlineThread, recommender, store, app.log, (result) => onlineMetrics?.written(result));
  const jobsRepo = database.jobs;
  const queue = createQueue(config, database, backend, app.log, store, (model, outcome, seconds) => metrics?.jobDuration.observe({ model, outcome }, seconds));
  metrics = new Metrics({ store, jobs: jobsRepo, queue, cache: { get hits() { return recommender.cacheStats.hits; }, get misses() { return recommender.cacheStats.misses; }, get size() { return recommender.cacheStats.size; }, get bytes() { return recommender.cacheStats.bytes; } }, inflightBodyBytes: inflightBodies.current });
  if (queue.kind === 'in-process') snapshots.removeIncomplete().catch((err: Error) => app.log.warn({ err: err.message }, 'removing unfinished snapshot uploads failed'));
  const registry = metrics.registry;
  onlineMetrics = new OnlineMetrics(registry, () => online.log);
  online.serving.onShown = (route, variant) => onlineMetrics?.impressions.inc({ route, variant: variant ?? 'none' });
  app.decorate('services', { config, database, access, queue, store, recommender, queries, reader, writer, leaderboards, online, backend, metrics, routes });
  registerRequestMetrics(app, metrics);
  // With Redis the dashboard's serving chart covers every replica; a Redis failure leaves the last merge (or this process's chart).
  const deploymentServing = cluster ? new DeploymentSeries(cluster.redis, cluster.prefix('serving'), config.statsRefreshMs) : null;
  const shareInterval = deploymentServing
    ? (interval: ServingInterval) => deploymentServing.record(interval).catch((err: unknown) => app.log.debug({ err: (err as Error).message }, 'serving chart not shared this sample'))
    : undefined;
  const servingSeries = new ServingSeries(metrics.answers, metrics.httpDuration, config.statsRefreshMs, undefined, shareInterval);
  servingSeries.start();
  const schedule = config.retrainCron ? scheduleRetrains(database, queue, config.defaultModel, { expression: config.retrainCron, tz: config.retrainCronTz }, app.log) : null;
  // Close order: stop the schedule and the queue (an in-process job is interrupted and requeued), then the database.
  app.addHook('onClose', async () => {
    schedule?.stop();
    await stopListening();
    await access.stop();
    store.close();
    leaderboards.stop();
    dataStats.stop();
    servingSeries.stop();
    await online.close();
    await queue.close();
    await Promise.all([reader.close(), writer.close(), onlineThread.close()]);
    await database.close();
  });
  const storageHealth = registerStorageHealth(app);
  const readiness = async (): Promise<string[]> => [...(await database.readiness()), ...storageHealth.problems()];
  /** This process serves the change before answering; the others hear of it (PostgreSQL) or poll. */
  const servingChanged = async (): Promise<void> => {
    await store.refresh();
    await database.announce({ kind: 'serving' }).catch((err: unknown) => app.log.warn({ err: (err as Error).message }, 'could not announce the serving change; other processes poll'));
  };

  await registerDocs(app, PACKAGE_VERSION);
  await app.register(healthRoutes, { readiness });
  await app.register(metaRoutes, { registry, openapiPath: OPENAPI_PATH, metricsScope: config.metricsPublic ? 'public' : 'read', specScope: config.docsPublic ? 'public' : 'read' });
  const ingested = (kind: 'ratings' | 'events', users: readonly string[], written: number): void => {
    recommender.interactionsChanged(users);
    database.announce({ kind: 'users', users }).catch((err: unknown) => app.log.warn({ err: (err as Error).message }, 'could not tell other replicas of new interactions; their cached answers expire with RECOMMENDATION_CACHE_TTL_MS'));
    leaderboards.changed();
    dataStats.changed();
    metrics.ingested.inc({ kind }, written);
    retrainIfDue();
  };
  const ingest = ingestRepositories(database, writer);
  await app.register(ingestRoutes, {
    ratings: ingest.ratings,
    events: ingest.events,
    ratingMin: config.ratingMin,
    ratingMax: config.ratingMax,
    maxBatchSize: config.maxBatchSize,
    eventTypes: Object.keys(config.eventTypes),
    onIngest: ingested,
    onFeedback: (feedback) => online.feedback(feedback),
  });
  const catalogueChanged = (changes: readonly CatalogueChange[], version: number): void => {
    catalogue.apply(changes, version);
    featureKeeper.apply(changes);
    // Category and label leaderboards and the latest list read the catalogue.
    leaderboards.changed();
    dataStats.changed();
  };
  await app.register(historyRoutes, { history: database.history });
  await app.register(recommendRoutes, {
    recommender,
    online: online.serving,
    queries,
    onAnswer: (route, a) => {
      metrics.answers.inc({ route, source: a.source, model: a.model, method: a.method });
      for (const item of a.items) metrics.slots.inc({ route, source: item.source });
    },
  });
  const retrainIfDue: () => void = autoRetrainer(database, queue, config.defaultModel, config.retrainEvery, app.log);
  await app.register(catalogueRoutes, {
    catalogue: catalogueRepo,
    writes: writer,
    onChange: catalogueChanged,
    onUserErased: (userId) => ingested('ratings', [userId], 0),
    maxBatchSize: config.maxBatchSize,
    features: config.features,
  });
  await app.register(keyRoutes, { keys: database.keys });
  await app.register(bulkRoutes, {
    bulk: database.bulk,
    importLimits: { maxLineBytes: config.importMaxLineBytes, maxBytes: config.importMaxBytes },
    sink: createImportSink({
      limits: { ratingMin: config.ratingMin, ratingMax: config.ratingMax, maxBatchSize: config.maxBatchSize },
      eventTypes: Object.keys(config.eventTypes),
      ratings: ingest.ratings,
      events: ingest.events,
      catalogue: catalogueRepo,
      writes: writer,
      onIngest: ingested,
      onCatalogueChange: catalogueChanged,
      features: config.features,
    }),
    onDeleted: (userId) => ingested('ratings', [userId], 0),
  });
  await app.register(servingAdminRoutes, { models, loadedVersion: () => store.servingVersion, refreshServing: servingChanged });
  await app.register(statsRoutes, { data: () => dataStats.value, jobs: () => jobsRepo.countByState(), serving: () => deploymentServing?.value ?? { series: servingSeries.series, processes: 1, scope: 'process' as const }, sampleMs: config.statsRefreshMs });
  await app.register(configRoutes, {
    effective: effectiveConfig(config),
    slots: async () => (await metrics.slots.get()).values.map((v) => ({ route: String(v.labels.route), source: String(v.labels.source), items: v.value })),
  });
  await app.register(onlineRoutes, {
    online,
    recommender,
    activeVersion: (model) => store.current(model)?.version ?? null,
    promote: async (model, version) => {
      await chooseServing(models, model as ModelName, version, 'experiment', Date.now());
      await servingChanged();
    },
    seenBy: async (userId) => new Set((await database.serving.userHistory(userId, config.eventWeights, config.historyLimit))?.items.map((i) => i.item) ?? []),
    catalogueItems: () => dataStats.value.counts.items - dataStats.value.counts.hiddenItems,
  });
  await app.register(dashboardRoutes, { dir: config.dashboardDir ?? DEFAULT_DASHBOARD_DIR });
  await app.register(adminRoutes, {
    queue,
    models,
    defaultModel: config.defaultModel,
    servingVersion: () => store.servingVersion,
    refreshServing: servingChanged,
  });
  return app;
}
