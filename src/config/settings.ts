/**
 * Every setting of recflow.yaml and the environment variable that overrides it: one table, so the
 * file, the variables, `recflow config check` and `GET /admin/config` always name the same things.
 * `field` is the key of the parsed Config the setting becomes.
 */
export interface Setting {
  /** `section.key` in recflow.yaml. */
  path: string;
  env: string;
  field: string;
  /** Never printed: `GET /admin/config` and `recflow config check` show "[redacted]". */
  secret?: 'whole' | 'url-password';
}

const s = (path: string, env: string, field: string, secret?: Setting['secret']): Setting => ({ path, env, field, ...(secret ? { secret } : {}) });

export const SETTINGS: readonly Setting[] = [
  s('server.port', 'PORT', 'port'),
  s('server.host', 'HOST', 'host'),
  s('server.bodyLimitBytes', 'BODY_LIMIT_BYTES', 'bodyLimitBytes'),
  s('server.importMaxLineBytes', 'IMPORT_MAX_LINE_BYTES', 'importMaxLineBytes'),
  s('server.importMaxBytes', 'IMPORT_MAX_BYTES', 'importMaxBytes'),
  s('server.inflightBodyBytes', 'INFLIGHT_BODY_BYTES', 'inflightBodyBytes'),
  s('server.maxBatchSize', 'MAX_BATCH_SIZE', 'maxBatchSize'),
  s('server.requestTimeoutMs', 'REQUEST_TIMEOUT_MS', 'requestTimeoutMs'),
  s('server.shutdownTimeoutMs', 'SHUTDOWN_TIMEOUT_MS', 'shutdownTimeoutMs'),
  s('server.dashboardDir', 'DASHBOARD_DIR', 'dashboardDir'),
  s('dashboard.itemTitleLabel', 'DASHBOARD_ITEM_TITLE_LABEL', 'dashboardLabels.itemTitle'),
  s('dashboard.itemImageLabel', 'DASHBOARD_ITEM_IMAGE_LABEL', 'dashboardLabels.itemImage'),
  s('dashboard.userTitleLabel', 'DASHBOARD_USER_TITLE_LABEL', 'dashboardLabels.userTitle'),
  s('dashboard.userImageLabel', 'DASHBOARD_USER_IMAGE_LABEL', 'dashboardLabels.userImage'),
  s('logging.level', 'LOG_LEVEL', 'logLevel'),
  s('logging.pretty', 'LOG_PRETTY', 'logPretty'),
  s('database.path', 'DATABASE_PATH', 'databasePath'),
  s('database.url', 'DATABASE_URL', 'databaseUrl', 'url-password'),
  s('database.poolSize', 'PG_POOL_SIZE', 'pgPoolSize'),
  s('database.sqliteSynchronous', 'SQLITE_SYNCHRONOUS', 'sqliteSynchronous'),
  s('database.sqliteBusyTimeoutMs', 'SQLITE_BUSY_TIMEOUT_MS', 'sqliteBusyTimeoutMs'),
  s('database.sqliteCacheMb', 'SQLITE_CACHE_MB', 'sqliteCacheMb'),
  s('database.migrationsDir', 'MIGRATIONS_DIR', 'migrationsDir'),
  s('storage.modelDir', 'MODEL_DIR', 'modelDir'),
  s('storage.dataDir', 'DATA_DIR', 'dataDir'),
  s('storage.keepVersions', 'KEEP_VERSIONS', 'keepVersions'),
  s('storage.snapshotUrl', 'SNAPSHOT_URL', 'snapshotUrl'),
  s('storage.s3Endpoint', 'SNAPSHOT_S3_ENDPOINT', 's3Endpoint'),
  s('storage.s3Region', 'SNAPSHOT_S3_REGION', 's3Region'),
  s('queue.redisUrl', 'REDIS_URL', 'redisUrl', 'url-password'),
  s('queue.name', 'QUEUE_NAME', 'queueName'),
  s('queue.attempts', 'JOB_ATTEMPTS', 'jobAttempts'),
  s('queue.backoffMs', 'JOB_BACKOFF_MS', 'jobBackoffMs'),
  s('queue.lockMs', 'JOB_LOCK_MS', 'jobLockMs'),
  s('queue.reconcileMs', 'JOB_RECONCILE_MS', 'jobReconcileMs'),
  s('auth.mode', 'AUTH', 'auth'),
  s('auth.adminToken', 'ADMIN_TOKEN', 'adminToken', 'whole'),
  s('auth.metricsPublic', 'METRICS_PUBLIC', 'metricsPublic'),
  s('auth.docsPublic', 'DOCS_PUBLIC', 'docsPublic'),
  s('auth.rateLimitRequests', 'RATE_LIMIT_REQUESTS', 'rateLimitRequests'),
  s('auth.rateLimitBytes', 'RATE_LIMIT_BYTES', 'rateLimitBytes'),
  s('feedback.ratingMin', 'RATING_MIN', 'ratingMin'),
  s('feedback.ratingMax', 'RATING_MAX', 'ratingMax'),
  s('feedback.dislikeThreshold', 'DISLIKE_THRESHOLD', 'dislikeThreshold'),
  s('feedback.eventTypes', 'EVENT_TYPES', 'eventTypes'),
  s('feedback.eventWeights', 'EVENT_WEIGHTS', 'eventWeights'),
  s('training.backend', 'TF_BACKEND', 'tfBackend'),
  s('training.threads', 'TRAIN_THREADS', 'trainThreads'),
  s('training.defaultModel', 'DEFAULT_MODEL', 'defaultModel'),
  s('training.promoteTolerance', 'PROMOTE_TOLERANCE', 'promoteTolerance'),
  s('training.refit', 'REFIT', 'refit'),
  s('training.retrainEvery', 'RETRAIN_EVERY', 'retrainEvery'),
  s('training.retrainCron', 'RETRAIN_CRON', 'retrainCron'),
  s('training.retrainCronTz', 'RETRAIN_CRON_TZ', 'retrainCronTz'),
  s('serving.model', 'SERVING_MODEL', 'servingModel'),
  s('serving.modelPollMs', 'MODEL_POLL_MS', 'modelPollMs'),
  s('serving.historyLimit', 'HISTORY_LIMIT', 'historyLimit'),
  s('serving.annMinItems', 'ANN_MIN_ITEMS', 'annMinItems'),
  s('serving.cacheSize', 'RECOMMENDATION_CACHE_SIZE', 'recommendationCacheSize'),
  s('serving.cacheTtlMs', 'RECOMMENDATION_CACHE_TTL_MS', 'recommendationCacheTtlMs'),
  s('serving.cacheBytes', 'RECOMMENDATION_CACHE_BYTES', 'recommendationCacheBytes'),
  s('serving.popularityRefreshMs', 'POPULARITY_REFRESH_MS', 'popularityRefreshMs'),
  s('serving.statsRefreshMs', 'STATS_REFRESH_MS', 'statsRefreshMs'),
  s('online.impressions', 'IMPRESSIONS', 'online.impressions'),
  s('online.attributionWindowMs', 'ATTRIBUTION_WINDOW_MS', 'online.attributionWindowMs'),
  s('online.retentionDays', 'IMPRESSION_RETENTION_DAYS', 'online.retentionDays'),
  s('online.bufferBytes', 'IMPRESSION_BUFFER_BYTES', 'online.bufferBytes'),
  s('online.flushMs', 'IMPRESSION_FLUSH_MS', 'online.flushMs'),
  s('online.explorationShare', 'EXPLORATION_SHARE', 'online.explorationShare'),
  s('online.explorationPool', 'EXPLORATION_POOL', 'online.explorationPool'),
  s('online.ctrK', 'ONLINE_CTR_K', 'online.ctrK'),
  s('worker.heartbeatFile', 'WORKER_HEARTBEAT_FILE', 'workerHeartbeatFile'),
  s('worker.metricsPort', 'WORKER_METRICS_PORT', 'workerMetricsPort'),
  s('faults.snapshotDelayMs', 'FAULT_SNAPSHOT_DELAY_MS', 'faultSnapshotDelayMs'),
  s('faults.snapshotError', 'FAULT_SNAPSHOT_ERROR', 'faultSnapshotError'),
];

/**
 * Variables that override a part of the pipeline rather than a setting of their own: they keep
 * working for deployments configured before the pipeline existed.
 */
export const PIPELINE_VARIABLES = {
  /** The window of the leaderboard `pipeline.popular` names. */
  POPULARITY_WINDOW_DAYS: 'windowDays',
  /** Its half-life (`none` for no decay). */
  POPULARITY_HALF_LIFE_DAYS: 'halfLifeDays',
} as const;

/** Every environment variable recflow reads: the settings, the pipeline overrides, and the file's own path. */
export const ENVIRONMENT_VARIABLES: readonly string[] = [...SETTINGS.map((s) => s.env), ...Object.keys(PIPELINE_VARIABLES), 'RECFLOW_CONFIG'];

export const REDACTED = '[redacted]';

/** A setting's value as printed: secrets never leave the process. */
export function shown(setting: Setting, value: unknown): unknown {
  if (value === undefined || value === null || !setting.secret) return value;
  if (setting.secret === 'whole') return REDACTED;
  try {
    const url = new URL(String(value));
    // Brackets would be percent-encoded in a URL: the password reads REDACTED there.
    if (url.password) url.password = 'REDACTED';
    return url.toString();
  } catch {
    return REDACTED;
  }
}
