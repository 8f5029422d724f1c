import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { z } from 'zod';
import { DEFAULT_EVENT_TYPES, eventWeights, withWeights, type EventTypeSpec } from './event-types.js';
import type { BackendChoice, ModelName } from './models/model.js';
import type { ThreadSetting } from './train/threads.js';
import { cronProblem, envSchema } from './config/env.js';
import { ConfigFileError, readConfigFile, type ConfigFile } from './config/file.js';
import { featuresFrom, pipelineFrom } from './config/pipeline-env.js';
import type { FeaturesConfig } from './config/features.js';
import type { PipelineConfig } from './config/pipeline.js';
import { onlineFrom, type OnlineConfig } from './config/online.js';
import { SETTINGS } from './config/settings.js';

export { POSTGRES_URL } from './config/env.js';

/**
 * A bad setting: `variable` is the environment variable, or `file: section.key` when the value
 * came from the configuration file.
 */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`invalid configuration: ${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

/** Where each setting's value came from, by variable name. */
export type SettingOrigin = 'env' | 'file' | 'default';

export interface Config {
  /** The configuration file read at start (RECFLOW_CONFIG, or ./recflow.yaml when it exists), or null. */
  configFile: string | null;
  /** Where each setting came from: the environment overrides the file, the file the defaults. */
  origins: Record<string, SettingOrigin>;
  /** Sources, ranker, rules, diversity, fallback and paging of recommendations (the file's `pipeline`). */
  pipeline: PipelineConfig;
  /** How item and user labels become content features (the file's `features`). */
  features: FeaturesConfig;
  /** Impressions, attribution, exploration and the online metrics (the file's `online`). */
  online: OnlineConfig;
  port: number;
  host: string;
  databasePath: string;
  /** PostgreSQL instead of SQLite (shared by several API and worker processes). */
  databaseUrl: string | undefined;
  /** Connections per process in the PostgreSQL pool (threads open their own, smaller pools). */
  pgPoolSize: number;
  modelDir: string;
  /** `s3://bucket/prefix` keeps snapshots in object storage; unset: PostgreSQL when DATABASE_URL is set, else MODEL_DIR. */
  snapshotUrl: string | undefined;
  /** An S3-compatible endpoint for SNAPSHOT_URL; unset: AWS itself. */
  s3Endpoint: string | undefined;
  s3Region: string;
  /** Where generated secrets (the admin token) live; defaults to the database's folder. */
  dataDir: string;
  redisUrl: string | undefined;
  adminToken: string | undefined;
  logLevel: z.infer<typeof envSchema>['LOG_LEVEL'];
  /** Pretty logs; defaults to true when stdout is a TTY. */
  logPretty: boolean;
  ratingMin: number;
  ratingMax: number;
  maxBatchSize: number;
  bodyLimitBytes: number;
  /** Longest NDJSON import line and body, in bytes (413 past either). */
  importMaxLineBytes: number;
  importMaxBytes: number;
  /** Declared event types (EVENT_TYPES, or the six defaults), with weights from EVENT_WEIGHTS. */
  eventTypes: Record<string, EventTypeSpec>;
  /** One number per type: positive weight, −1 for negative types, 0 for read ones. */
  eventWeights: Record<string, number>;
  sqliteSynchronous: 'NORMAL' | 'FULL';
  sqliteBusyTimeoutMs: number;
  /** SQLite's page cache per connection, MiB. */
  sqliteCacheMb: number;
  shutdownTimeoutMs: number;
  migrationsDir: string;
  /** TensorFlow.js backend: auto = tfjs-node, else wasm, else cpu. */
  tfBackend: BackendChoice;
  /** Threads training the neural models (Hogwild) and iALS (rows split): `auto` = every core, less one in the embedded setup, and one for small data. */
  trainThreads: ThreadSetting;
  /** The model `POST /admin/retrain` trains when none is named, and the one serving prefers. */
  /**
   * What serves by default, applied at every start when set: `auto` (the best model by validation
   * HR@10, then the promotion rules) or a model name (pinned). Unset: the last choice stands
   * (POST /admin/serving; `auto` on a new database).
   */
  servingModel: 'auto' | ModelName | undefined;
  /** What POST /admin/retrain, RETRAIN_EVERY and RETRAIN_CRON train when no model is named (`auto` searches). */
  defaultModel: ModelName | 'auto';
  jobAttempts: number;
  jobBackoffMs: number;
  /** A new version is promoted when its validation HR@10 ≥ the active one's minus this. */
  promoteTolerance: number;
  /** Versions kept per model (the active one is never deleted). */
  keepVersions: number;
  /** Retrain jobs refit the evaluated configuration on all data before saving (a request's `refit` overrides). */
  refit: boolean;
  /** How often the API checks for a newly activated model version. */
  modelPollMs: number;
  /** Enqueue a retrain of the default model every N new interactions (0 = never). */
  retrainEvery: number;
  /** Cron expression (5 or 6 fields) for scheduled retrains of the default model; unset = none. */
  retrainCron: string | undefined;
  retrainCronTz: string;
  /** Ratings at or below this are dislikes: not positives for training, never recommended. */
  dislikeThreshold: number;
  queueName: string;
  /** `off` opens every route to anyone (local experiments only; warned at every start). */
  auth: 'on' | 'off';
  /** GET /metrics without a key (Prometheus scrapers); false: it needs a `read` key. */
  metricsPublic: boolean;
  /** Swagger UI and its spec at /docs without a key (the spec is the published openapi.yaml). */
  docsPublic: boolean;
  /** Default per-key limits per minute, for keys without their own (0 = unlimited). */
  rateLimitRequests: number;
  rateLimitBytes: number;
  /** The worker touches this file every 10 s (container health check); unset = no heartbeat. */
  /** The worker serves Prometheus metrics on this port (0 = none). */
  workerMetricsPort: number;
  workerHeartbeatFile: string | undefined;
  /** BullMQ job lock; a worker that dies is noticed (stalled) after about this long. */
  jobLockMs: number;
  /** How often the API reconciles unfinished job records with what Redis holds (BullMQ mode). */
  jobReconcileMs: number;
  /** A request not answered in this long gets 408 and its connection closed (0 = no limit). */
  requestTimeoutMs: number;
  /** Fault injection for tests only: pause before a snapshot's rename so a kill lands mid-write. */
  faultSnapshotDelayMs: number;
  /** Fault injection for tests only: snapshot writes fail with this errno code (e.g. ENOSPC) before their rename. */
  faultSnapshotError: string | undefined;
  /** Most recent interactions a recommendation reads per user (exclusion and fold-in): bounds a request's cost. */
  historyLimit: number;
  /** Bytes of request bodies being received at once; beyond it new bodies get 503 + Retry-After. */
  inflightBodyBytes: number;
  /** Approximate bytes of cached recommendation answers (with RECOMMENDATION_CACHE_SIZE as the entry bound). */
  recommendationCacheBytes: number;
  /** How often the popularity fallback is recomputed, off the request path. */
  popularityRefreshMs: number;
  /** The dashboard's figures: data counts are recomputed (in the reader thread) and serving rates sampled this often. */
  statsRefreshMs: number;
  /** The built dashboard (index.html and assets); unset: dist/web beside the compiled server. */
  dashboardDir: string | undefined;
  /** The label keys the dashboard shows items and users by: a title and an image URL each. */
  dashboardLabels: { itemTitle: string; itemImage: string; userTitle: string; userImage: string };
  /** Catalogues with at least this many items use approximate top-N retrieval (HNSW); 0 = always exact. */
  annMinItems: number;
  /** Recommendation answers cached per (user, query, model version); 0 = no cache. */
  recommendationCacheSize: number;
  /** Cached answers older than this are recomputed (bounds staleness of popularity and of writes from other processes). */
  recommendationCacheTtlMs: number;
}

/** The migrations shipped with the package: `<root>/migrations`, the same from `src/` and `dist/`. */
export const DEFAULT_MIGRATIONS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'migrations');

export interface LoadConfigOptions {
  /** A configuration file to read (overrides RECFLOW_CONFIG); null reads none. */
  file?: string | null;
  /** Read ./recflow.yaml when it exists and neither `file` nor RECFLOW_CONFIG names one (the processes do; tests do not). */
  discover?: boolean;
}

/** Which file to read: an explicit one, RECFLOW_CONFIG, or ./recflow.yaml when discovering. */
function configFilePath(env: Record<string, string | undefined>, options: LoadConfigOptions): string | null {
  if (options.file !== undefined) return options.file;
  if (env.RECFLOW_CONFIG) return env.RECFLOW_CONFIG;
  return options.discover && existsSync('recflow.yaml') ? 'recflow.yaml' : null;
}

function readFileOrThrow(file: string | null): ConfigFile | null {
  if (!file) return null;
  try {
    return readConfigFile(file);
  } catch (err) {
    if (err instanceof ConfigFileError) throw new ConfigError(`${err.file}: ${err.at}`, err.message);
    throw err;
  }
}

/** Names a bad value where the operator set it: the variable, or the file and its section.key. */
function errorAt(variable: string, fromEnv: Record<string, string>, file: ConfigFile | null): string {
  if (variable in fromEnv || !file || !(variable in file.values)) return variable;
  return `${file.path}: ${SETTINGS.find((s) => s.env === variable)?.path ?? variable}`;
}

/**
 * Parses configuration once at startup: defaults, then the configuration file, then the
 * environment, which overrides both. Throws {@link ConfigError} naming the first bad variable
 * (or file key); nothing else in the code base reads `process.env`.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env, options: LoadConfigOptions = { discover: env === process.env }): Config {
  const file = readFileOrThrow(configFilePath(env, options));
  const fromEnv = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== '')) as Record<string, string>;
  const parsed = envSchema.safeParse({ ...(file?.values ?? {}), ...fromEnv });
  const fail = (variable: string, message: string): never => {
    throw new ConfigError(errorAt(variable, fromEnv, file), message);
  };
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return fail(String(issue.path[0] ?? 'env'), issue.message);
  }
  const e = parsed.data;
  if (e.RATING_MIN >= e.RATING_MAX) fail('RATING_MIN', `must be below RATING_MAX (${e.RATING_MAX})`);
  if (e.RETRAIN_CRON !== undefined) {
    const problem = cronProblem(e.RETRAIN_CRON, e.RETRAIN_CRON_TZ);
    if (problem) fail('RETRAIN_CRON', problem);
  }
  const databasePath = e.DATABASE_PATH;
  // Training and the background reader open the database from worker threads: it must be a file.
  if (databasePath === ':memory:') fail('DATABASE_PATH', 'must be a file path (worker threads share the database; :memory: cannot be shared)');
  const eventTypes = withWeights(e.EVENT_TYPES ?? DEFAULT_EVENT_TYPES, e.EVENT_WEIGHTS ?? '');
  if (typeof eventTypes === 'string') return fail('EVENT_WEIGHTS', eventTypes);
  const pipeline = pipelineFrom(file, fromEnv, Object.keys(eventTypes), (at, message) => {
    throw new ConfigError(at, message);
  });
  const features = featuresFrom(file, (at, message) => {
    throw new ConfigError(at, message);
  });
  const origins = Object.fromEntries(SETTINGS.map((s) => [s.env, s.env in fromEnv ? 'env' : file && s.env in file.values ? 'file' : 'default'])) as Record<string, SettingOrigin>;
  return {
    configFile: file?.path ?? null,
    origins,
    pipeline,
    features,
    online: onlineFrom(e),
    port: e.PORT,
    host: e.HOST,
    databasePath,
    databaseUrl: e.DATABASE_URL,
    pgPoolSize: e.PG_POOL_SIZE,
    modelDir: e.MODEL_DIR,
    snapshotUrl: e.SNAPSHOT_URL,
    s3Endpoint: e.SNAPSHOT_S3_ENDPOINT,
    s3Region: e.SNAPSHOT_S3_REGION,
    dataDir: e.DATA_DIR ?? path.dirname(databasePath),
    redisUrl: e.REDIS_URL,
    adminToken: e.ADMIN_TOKEN,
    logLevel: e.LOG_LEVEL,
    logPretty: e.LOG_PRETTY ?? Boolean(process.stdout.isTTY),
    ratingMin: e.RATING_MIN,
    ratingMax: e.RATING_MAX,
    maxBatchSize: e.MAX_BATCH_SIZE,
    bodyLimitBytes: e.BODY_LIMIT_BYTES,
    importMaxLineBytes: e.IMPORT_MAX_LINE_BYTES,
    importMaxBytes: e.IMPORT_MAX_BYTES,
    eventTypes,
    eventWeights: eventWeights(eventTypes),
    sqliteSynchronous: e.SQLITE_SYNCHRONOUS,
    sqliteBusyTimeoutMs: e.SQLITE_BUSY_TIMEOUT_MS,
    sqliteCacheMb: e.SQLITE_CACHE_MB,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    migrationsDir: e.MIGRATIONS_DIR ?? DEFAULT_MIGRATIONS_DIR,
    tfBackend: e.TF_BACKEND,
    trainThreads: e.TRAIN_THREADS,
    defaultModel: e.DEFAULT_MODEL,
    servingModel: e.SERVING_MODEL,
    jobAttempts: e.JOB_ATTEMPTS,
    jobBackoffMs: e.JOB_BACKOFF_MS,
    promoteTolerance: e.PROMOTE_TOLERANCE,
    keepVersions: e.KEEP_VERSIONS,
    refit: e.REFIT,
    modelPollMs: e.MODEL_POLL_MS,
    retrainEvery: e.RETRAIN_EVERY,
    retrainCron: e.RETRAIN_CRON,
    retrainCronTz: e.RETRAIN_CRON_TZ,
    dislikeThreshold: e.DISLIKE_THRESHOLD,
    queueName: e.QUEUE_NAME,
    auth: e.AUTH,
    metricsPublic: e.METRICS_PUBLIC,
    docsPublic: e.DOCS_PUBLIC,
    rateLimitRequests: e.RATE_LIMIT_REQUESTS,
    rateLimitBytes: e.RATE_LIMIT_BYTES,
    workerHeartbeatFile: e.WORKER_HEARTBEAT_FILE,
    workerMetricsPort: e.WORKER_METRICS_PORT,
    jobLockMs: e.JOB_LOCK_MS,
    jobReconcileMs: e.JOB_RECONCILE_MS,
    requestTimeoutMs: e.REQUEST_TIMEOUT_MS,
    faultSnapshotDelayMs: e.FAULT_SNAPSHOT_DELAY_MS,
    faultSnapshotError: e.FAULT_SNAPSHOT_ERROR,
    historyLimit: e.HISTORY_LIMIT,
    inflightBodyBytes: e.INFLIGHT_BODY_BYTES,
    recommendationCacheBytes: e.RECOMMENDATION_CACHE_BYTES,
    popularityRefreshMs: e.POPULARITY_REFRESH_MS,
    statsRefreshMs: e.STATS_REFRESH_MS,
    dashboardDir: e.DASHBOARD_DIR,
    dashboardLabels: { itemTitle: e.DASHBOARD_ITEM_TITLE_LABEL, itemImage: e.DASHBOARD_ITEM_IMAGE_LABEL, userTitle: e.DASHBOARD_USER_TITLE_LABEL, userImage: e.DASHBOARD_USER_IMAGE_LABEL },
    annMinItems: e.ANN_MIN_ITEMS,
    recommendationCacheSize: e.RECOMMENDATION_CACHE_SIZE,
    recommendationCacheTtlMs: e.RECOMMENDATION_CACHE_TTL_MS,
  };
}
