import { z } from 'zod';
import { CronExpressionParser } from 'cron-parser';
import { eventTypesFromEnv } from '../event-types.js';
import { BACKEND_CHOICES, MODEL_NAMES } from '../models/model.js';
import { onlineEnv } from './online.js';

/** A label key the dashboard shows items or users by (a title, an image URL). */
const labelKey = z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'must be a label key: 1-64 letters, digits, _ . : or -');

/** What selects PostgreSQL, in DATABASE_URL and in the CLI's `--db`/`--to`. */
export const POSTGRES_URL = /^postgres(ql)?:\/\//;

const intFromEnv = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const numFromEnv = () => z.coerce.number().refine(Number.isFinite, 'must be a finite number');
const boolFromEnv = () =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .transform((v) => v === 'true' || v === '1' || v === 'yes');

export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** Why `expression` is not a usable cron schedule, or null when it is. */
export function cronProblem(expression: string, tz: string): string | null {
  try {
    CronExpressionParser.parse(expression, { tz }).next();
    return null;
  } catch (err) {
    return `is not a cron expression (${(err as Error).message}); e.g. "0 3 * * *" for 03:00 every day`;
  }
}

export const envSchema = z.object({
  PORT: intFromEnv(0, 65535).default(8080),
  HOST: z.string().min(1).default('127.0.0.1'),
  DATABASE_PATH: z.string().min(1).default('./data/recflow.db'),
  DATABASE_URL: z
    .string()
    .regex(POSTGRES_URL, 'must be a postgres:// or postgresql:// URL (unset: SQLite at DATABASE_PATH)')
    .optional(),
  PG_POOL_SIZE: intFromEnv(1, 1000).default(10),
  MODEL_DIR: z.string().min(1).default('./data/models'),
  SNAPSHOT_URL: z.string().regex(/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/, 'must be s3://bucket/prefix').optional(),
  SNAPSHOT_S3_ENDPOINT: z.string().url('must be a URL such as http://minio:9000').optional(),
  SNAPSHOT_S3_REGION: z.string().min(1).default('us-east-1'),
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
  IMPORT_MAX_LINE_BYTES: intFromEnv(1024, 256 * 1024 * 1024).default(1024 * 1024),
  IMPORT_MAX_BYTES: intFromEnv(1024, Number.MAX_SAFE_INTEGER).default(16 * 1024 ** 3),
  EVENT_TYPES: eventTypesFromEnv.optional(),
  EVENT_WEIGHTS: z.string().optional(),
  SQLITE_SYNCHRONOUS: z.enum(['NORMAL', 'FULL']).default('NORMAL'),
  SQLITE_BUSY_TIMEOUT_MS: intFromEnv(0, 600_000).default(5000),
  SQLITE_CACHE_MB: intFromEnv(2, 65_536).default(64),
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
  DASHBOARD_ITEM_TITLE_LABEL: labelKey.default('title'),
  DASHBOARD_ITEM_IMAGE_LABEL: labelKey.default('image'),
  DASHBOARD_USER_TITLE_LABEL: labelKey.default('name'),
  DASHBOARD_USER_IMAGE_LABEL: labelKey.default('avatar'),
  ANN_MIN_ITEMS: intFromEnv(0, 1_000_000_000).default(50_000),
  RECOMMENDATION_CACHE_SIZE: intFromEnv(0, 10_000_000).default(20_000),
  RECOMMENDATION_CACHE_TTL_MS: intFromEnv(0, 86_400_000).default(60_000),
  ...onlineEnv,
});
