import type { FastifyInstance } from 'fastify';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { startApp, tempDir, testConfig } from './app.js';

/** The machine's PostgreSQL (trust auth); `.ci/run` starts it when it is down. */
export const PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A URL whose connections work in `schema` only (search_path), so a test's tables are its own. */
export function schemaUrl(schema: string): string {
  const url = new URL(PG_URL);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return url.toString();
}

/** A new empty schema for one test; `drop()` removes it with everything in it. */
export async function privateSchema(prefix = 't'): Promise<{ schema: string; url: string; drop: () => Promise<void> }> {
  const schema = `${prefix}_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE SCHEMA ${schema}`);
  } finally {
    await admin.end();
  }
  return {
    schema,
    url: schemaUrl(schema),
    drop: async () => {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      try {
        await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await c.end();
      }
    },
  };
}

export type Engine = 'sqlite' | 'postgres';

/**
 * A test app on either engine (a private temp dir, and on PostgreSQL a private schema), whose
 * removal is pushed onto `cleanups` (run them in reverse).
 */
export async function appOnEngine(engine: Engine, env: Record<string, string>, cleanups: (() => Promise<void> | void)[]): Promise<FastifyInstance> {
  const { dir, cleanup } = tempDir();
  cleanups.push(cleanup);
  const all = { ...env };
  if (engine === 'postgres') {
    const { url, drop } = await privateSchema(`t_${engine}`);
    cleanups.push(drop);
    all.DATABASE_URL = url;
  }
  const app = await startApp(testConfig(dir, all));
  cleanups.push(() => app.close());
  return app;
}
