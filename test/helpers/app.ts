import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import request from 'supertest';
import { buildApp } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import type { Db } from '../../src/db/sqlite/connection.js';
import type { SqliteStore } from '../../src/db/sqlite/store.js';

/** A fresh temporary directory, removed by the returned cleanup. */
export function tempDir(prefix = 'recflow-test-'): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** The admin token every test app accepts (an admin key: every route). */
export const ADMIN_TOKEN = 'test-admin-token-0123456789';

/**
 * supertest against an app, authenticated with `key` (default: the admin token). Use
 * `request(app.server)` directly for an anonymous caller.
 */
export function api(app: FastifyInstance, key: string = ADMIN_TOKEN): ReturnType<typeof request.agent> {
  return request.agent(app.server).set('authorization', `Bearer ${key}`);
}

/** The read+write key generated into the data dir on an app's first start. */
export function defaultKey(app: FastifyInstance): string {
  return fs.readFileSync(path.join(app.services.config.dataDir, 'api-key'), 'utf8').trim();
}

/** Config for a test: defaults plus a private data dir, a fixed admin token and silent logs. */
export function testConfig(dir: string, env: Record<string, string> = {}): Config {
  return loadConfig({
    DATABASE_PATH: path.join(dir, 'recflow.db'),
    MODEL_DIR: path.join(dir, 'models'),
    ADMIN_TOKEN,
    LOG_LEVEL: 'silent',
    LOG_PRETTY: 'false',
    ...env,
  });
}

export const silentLogger = pino({ level: 'silent' });

/** Builds the app on a config and waits until it is ready to serve (no listening socket). */
export async function startApp(config: Config): Promise<FastifyInstance> {
  const app = await buildApp(config, { logger: silentLogger });
  await app.ready();
  return app;
}

/** The SQLite connection behind a test app, for checks straight against its tables. */
export function sqliteDb(app: FastifyInstance): Db {
  const { database } = app.services;
  if (database.backend !== 'sqlite') throw new Error('this check reads SQLite tables directly');
  return (database as SqliteStore).db;
}
