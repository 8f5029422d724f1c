import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveAdminToken } from '../src/auth/admin-token.js';
import { ConfigError, loadConfig } from '../src/config.js';
import { ENVIRONMENT_VARIABLES } from '../src/config/settings.js';
import { tempDir } from './helpers/app.js';

describe('loadConfig', () => {
  it('uses the documented defaults', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      port: 8080,
      databasePath: './data/recflow.db',
      modelDir: './data/models',
      dataDir: './data',
      redisUrl: undefined,
      ratingMin: 0.5,
      ratingMax: 5,
      maxBatchSize: 10_000,
    });
  });

  it.each([
    ['PORT', { PORT: 'eighty' }],
    ['PORT', { PORT: '70000' }],
    ['REDIS_URL', { REDIS_URL: 'localhost:6379' }],
    ['ADMIN_TOKEN', { ADMIN_TOKEN: 'short' }],
    ['LOG_LEVEL', { LOG_LEVEL: 'loud' }],
    ['EVENT_WEIGHTS', { EVENT_WEIGHTS: 'click=1,hover=2' }],
    ['EVENT_WEIGHTS', { EVENT_WEIGHTS: 'click=-1' }],
    ['EVENT_WEIGHTS', { EVENT_WEIGHTS: 'dislike=2' }],
    ['EVENT_TYPES', { EVENT_TYPES: 'Share=2' }],
    ['EVENT_TYPES', { EVENT_TYPES: 'share=often' }],
    ['EVENT_TYPES', { EVENT_TYPES: 'share=-2' }],
    ['RATING_MIN', { RATING_MIN: '5', RATING_MAX: '1' }],
    ['RETRAIN_CRON', { RETRAIN_CRON: '61 * * * *' }],
    ['RETRAIN_CRON', { RETRAIN_CRON: 'nightly' }],
    ['RETRAIN_CRON_TZ', { RETRAIN_CRON: '0 3 * * *', RETRAIN_CRON_TZ: 'Mars/Olympus' }],
    ['DATABASE_PATH', { DATABASE_PATH: ':memory:' }],
    ['DATABASE_URL', { DATABASE_URL: 'mysql://root@db/recflow' }],
    ['PG_POOL_SIZE', { PG_POOL_SIZE: '0' }],
    ['HISTORY_LIMIT', { HISTORY_LIMIT: '0' }],
    ['INFLIGHT_BODY_BYTES', { INFLIGHT_BODY_BYTES: '10' }],
    ['FAULT_SNAPSHOT_ERROR', { FAULT_SNAPSHOT_ERROR: 'disk full' }],
  ])('names %s when it is bad', (variable, env) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    try {
      loadConfig(env);
    } catch (err) {
      expect((err as ConfigError).variable).toBe(variable);
      expect((err as Error).message).toContain(variable);
    }
  });

  it('accepts standard cron expressions in a time zone', () => {
    expect(loadConfig({ RETRAIN_CRON: '0 3 * * *', RETRAIN_CRON_TZ: 'Europe/Berlin' })).toMatchObject({ retrainCron: '0 3 * * *', retrainCronTz: 'Europe/Berlin' });
    expect(loadConfig({ RETRAIN_CRON: '*/30 * * * * *' }).retrainCronTz).toBe('UTC');
  });

  it('parses event weights over the defaults', () => {
    expect(loadConfig({ EVENT_WEIGHTS: 'purchase=10, click=0.25' }).eventWeights).toMatchObject({ purchase: 10, click: 0.25, view: 0.5, dislike: -1 });
  });

  it('declares event types of its own with a weight or a polarity', () => {
    const config = loadConfig({ EVENT_TYPES: 'share=2, bought=5, meh=negative, opened=read', EVENT_WEIGHTS: 'share=3' });
    expect(config.eventWeights).toEqual({ share: 3, bought: 5, meh: -1, opened: 0 });
    expect(config.eventTypes.opened).toEqual({ polarity: 'read', weight: 0 });
  });
});

describe('resolveAdminToken', () => {
  it('generates a token once, keeps it with mode 0600 and reuses it', () => {
    const { dir, cleanup } = tempDir();
    try {
      const first = resolveAdminToken(undefined, dir);
      const file = path.join(dir, 'admin-token');
      expect(first.source).toBe(file);
      expect(first.token.length).toBeGreaterThanOrEqual(32);
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
      expect(resolveAdminToken(undefined, dir).token).toBe(first.token);
      expect(resolveAdminToken('from-the-environment-123', dir)).toEqual({ token: 'from-the-environment-123', source: 'env' });
    } finally {
      cleanup();
    }
  });
});

describe('README configuration table', () => {
  it('documents every environment variable the service reads', () => {
    const readme = fs.readFileSync('README.md', 'utf8');
    const names = ENVIRONMENT_VARIABLES;
    expect(names.length).toBeGreaterThan(30);
    expect(names.filter((n) => !readme.includes(`\`${n}\``))).toEqual([]);
  });
});
