import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { CronExpressionParser } from 'cron-parser';
import { DEFAULT_EVENT_TYPES, eventTypesFromEnv, eventWeights, withWeights, type EventTypeSpec } from './event-types.js';
import { BACKEND_CHOICES, MODEL_NAMES, type BackendChoice, type ModelName } from './models/model.js';
import type { ThreadSetting } from './train/threads.js';

/** Thrown when an environment variable is missing or malformed; names the variable. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`invalid configuration: ${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

/** What selects PostgreSQL, in DATABASE_URL and in the CLI's `--db`/`--to`. */
export const POSTGRES_URL = /^postgres(ql)?:\/\//;

const intFromEnv = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const numFromEnv = () => z.coerce.number().refine(Number.isFinite, 'must be a finite number');
const boolFromEnv = () =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .transform((v) => v === 'true' || v === '1' || v === 'yes');

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** Why `expression` is not a usable cron schedule, or null when it is. */
function cronProblem(expression: string, tz: string): string | null {
  try {
    CronExpressionParser.parse(expression, { tz }).next();
    return null;
  } catch (err) {
    return `is not a cron expression (${(err as Error).message}); e.g. "0 3 * * *" for 03:00 every day`;
  }
}

const envSchema = z.object({
  PORT: intFromEnv(0, 65535).default(8080),
  HOST: z.string().min(1).default('127.0.0.1'),
  DATABASE_PATH: z.string().min(1).default('./data/recflow.db'),
  DATABASE_URL: z
    .string()
    .regex(POSTGRES_URL, 'must be a postgres:// or postgresql:// URL (unset: SQLite at DATABASE_PATH)')
    .optional(),
  PG_POOL_SIZE: intFromEnv(1, 1000).default(10),
  MODEL_DIR: z.string().min(1).default('./data/models'),
  DATA_DIR: z.string().min(1).optional(),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must start with redis:// or rediss://')
    .optional(),
  ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_PRETTY: boolFromEnv().optional(),
  RATING_MIN: numFromEnv().default(0.5),
  RATING_MAX: numFromEnv().default(5),
  MAX_BATCH_SIZE: intFromEnv(1, 100_000).default(10_000),
  BODY_LIMIT_BYTES: intFromEnv(1024, 256 * 1024 * 1024).default(5 * 1024 * 1024),
  EVENT_TYPES: eventTypesFromEnv.optional(),
  EVENT_WEIGHTS: z.string().optional(),
  SQLITE_SYNCHRONOUS: z.enum(['NORMAL', 'FULL']).default('NORMAL'),
  SQLITE_BUSY_TIMEOUT_MS: intFromEnv(0, 600_000).default(5000),
  SHUTDOWN_TIMEOUT_MS: intFromEnv(100, 600_000).default(10_000),
  MIGRATIONS_DIR: z.string().min(1).optional(),
  TF_BACKEND: z.enum(BACKEND_CHOICES).default('auto'),
  TRAIN_THREADS: z.union([z.literal('auto'), intFromEnv(1, 64)]).default('auto'),
  DEFAULT_MODEL: z.enum(['auto', ...MODEL_NAMES]).default('gmf'),
  SERVING_MODEL: z.enum(['auto', ...MODEL_NAMES]).optional(),
  JOB_ATTEMPTS: intFromEnv(1, 20).default(3),
  JOB_BACKOFF_MS: intFromEnv(0, 3_600_000).default(5000),
  PROMOTE_TOLERANCE: numFromEnv().pipe(z.number().min(0).max(1)).default(0.01),
  KEEP_VERSIONS: intFromEnv(1, 1000).default(5),
  REFIT: boolFromEnv().default(true),
  MODEL_POLL_MS: intFromEnv(50, 600_000).default(2000),
  RETRAIN_EVERY: intFromEnv(0, 1_000_000_000).default(0),
  RETRAIN_CRON: z.string().trim().min(1).optional(),
  RETRAIN_CRON_TZ: z
    .string()
    .refine(isTimeZone, 'must be an IANA time zone such as UTC or Europe/Berlin')
    .default('UTC'),
  DISLIKE_THRESHOLD: numFromEnv().default(2),
  QUEUE_NAME: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ and - only').default('recflow-train'),
  AUTH: z.enum(['on', 'off']).default('on'),
  METRICS_PUBLIC: boolFromEnv().default(true),
  DOCS_PUBLIC: boolFromEnv().default(true),
  RATE_LIMIT_REQUESTS: intFromEnv(0, 100_000_000).default(0),
  RATE_LIMIT_BYTES: intFromEnv(0, 1024 ** 4).default(0),
  WORKER_HEARTBEAT_FILE: z.string().min(1).optional(),
  WORKER_METRICS_PORT: intFromEnv(0, 65535).default(0),
  JOB_LOCK_MS: intFromEnv(1000, 3_600_000).default(30_000),
  JOB_RECONCILE_MS: intFromEnv(1000, 86_400_000).default(30_000),
  REQUEST_TIMEOUT_MS: intFromEnv(0, 3_600_000).default(30_000),
  FAULT_SNAPSHOT_DELAY_MS: intFromEnv(0, 600_000).default(0),
  FAULT_SNAPSHOT_ERROR: z.string().regex(/^E[A-Z]{2,15}$/, 'an errno code such as ENOSPC').optional(),
  HISTORY_LIMIT: intFromEnv(1, 100_000).default(500),
  INFLIGHT_BODY_BYTES: intFromEnv(1024, 64 * 1024 * 1024 * 1024).default(64 * 1024 * 1024),
  RECOMMENDATION_CACHE_BYTES: intFromEnv(0, 64 * 1024 * 1024 * 1024).default(64 * 1024 * 1024),
  POPULARITY_REFRESH_MS: intFromEnv(100, 86_400_000).default(30_000),
  STATS_REFRESH_MS: intFromEnv(100, 86_400_000).default(5_000),
  DASHBOARD_DIR: z.string().min(1).optional(),
  POPULARITY_WINDOW_DAYS: intFromEnv(0, 100_000).default(0),
  ANN_MIN_ITEMS: intFromEnv(0, 1_000_000_000).default(50_000),
  RECOMMENDATION_CACHE_SIZE: intFromEnv(0, 10_000_000).default(20_000),
  RECOMMENDATION_CACHE_TTL_MS: intFromEnv(0, 86_400_000).default(60_000),
});

export interface Config {
  port: number;
  host: string;
  databasePath: string;
  /** PostgreSQL instead of SQLite (shared by several API and worker processes). */
  databaseUrl: string | undefined;
  /** Connections per process in the PostgreSQL pool (threads open their own, smaller pools). */
  pgPoolSize: number;
  modelDir: string;
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
  /** Declared event types (EVENT_TYPES, or the six defaults), with weights from EVENT_WEIGHTS. */
  eventTypes: Record<string, EventTypeSpec>;
  /** One number per type: positive weight, −1 for negative types, 0 for read ones. */
  eventWeights: Record<string, number>;
  sqliteSynchronous: 'NORMAL' | 'FULL';
  sqliteBusyTimeoutMs: number;
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
  /** Days of interactions before the newest one that popularity counts; 0 = all time. */
  popularityWindowDays: number;
  /** How often the popularity fallback is recomputed, off the request path. */
  popularityRefreshMs: number;
  /** The dashboard's figures: data counts are recomputed (in the reader thread) and serving rates sampled this often. */
  statsRefreshMs: number;
  /** The built dashboard (index.html and assets); unset: dist/web beside the compiled server. */
  dashboardDir: string | undefined;
  /** Catalogues with at least this many items use approximate top-N retrieval (HNSW); 0 = always exact. */
  annMinItems: number;
  /** Recommendation answers cached per (user, query, model version); 0 = no cache. */
  recommendationCacheSize: number;
  /** Cached answers older than this are recomputed (bounds staleness of popularity and of writes from other processes). */
  recommendationCacheTtlMs: number;
}

/** The migrations shipped with the package: `<root>/migrations`, the same from `src/` and `dist/`. */
export const DEFAULT_MIGRATIONS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'migrations');

/**
 * Parses configuration from an environment once at startup. Throws {@link ConfigError}
 * naming the first bad variable; nothing else in the code base reads `process.env`.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(String(issue.path[0] ?? 'env'), issue.message);
  }
  const e = parsed.data;
  if (e.RATING_MIN >= e.RATING_MAX) {
    throw new ConfigError('RATING_MIN', `must be below RATING_MAX (${e.RATING_MAX})`);
  }
  if (e.RETRAIN_CRON !== undefined) {
    const problem = cronProblem(e.RETRAIN_CRON, e.RETRAIN_CRON_TZ);
    if (problem) throw new ConfigError('RETRAIN_CRON', problem);
  }
  const databasePath = e.DATABASE_PATH;
  // Training and the background reader open the database from worker threads: it must be a file.
  if (databasePath === ':memory:') throw new ConfigError('DATABASE_PATH', 'must be a file path (worker threads share the database; :memory: cannot be shared)');
  const eventTypes = withWeights(e.EVENT_TYPES ?? DEFAULT_EVENT_TYPES, e.EVENT_WEIGHTS ?? '');
  if (typeof eventTypes === 'string') throw new ConfigError('EVENT_WEIGHTS', eventTypes);
  return {
    port: e.PORT,
    host: e.HOST,
    databasePath,
    databaseUrl: e.DATABASE_URL,
    pgPoolSize: e.PG_POOL_SIZE,
    modelDir: e.MODEL_DIR,
    dataDir: e.DATA_DIR ?? path.dirname(databasePath),
    redisUrl: e.REDIS_URL,
    adminToken: e.ADMIN_TOKEN,
    logLevel: e.LOG_LEVEL,
    logPretty: e.LOG_PRETTY ?? Boolean(process.stdout.isTTY),
    ratingMin: e.RATING_MIN,
    ratingMax: e.RATING_MAX,
    maxBatchSize: e.MAX_BATCH_SIZE,
    bodyLimitBytes: e.BODY_LIMIT_BYTES,
    eventTypes,
    eventWeights: eventWeights(eventTypes),
    sqliteSynchronous: e.SQLITE_SYNCHRONOUS,
    sqliteBusyTimeoutMs: e.SQLITE_BUSY_TIMEOUT_MS,
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
    popularityWindowDays: e.POPULARITY_WINDOW_DAYS,
    annMinItems: e.ANN_MIN_ITEMS,
    recommendationCacheSize: e.RECOMMENDATION_CACHE_SIZE,
    recommendationCacheTtlMs: e.RECOMMENDATION_CACHE_TTL_MS,
  };
}
