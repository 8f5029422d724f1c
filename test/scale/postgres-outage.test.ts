import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { api, startApp, tempDir, testConfig } from '../helpers/app.js';
import { PG_URL, privateSchema } from '../helpers/postgres.js';
import { freePort } from '../helpers/processes.js';
import { Relay, throughRelay } from '../helpers/relay.js';
import { until } from '../helpers/training.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('PostgreSQL outage', () => {
  it('answers 503 database_unavailable with Retry-After while the database is unreachable, stays live, and recovers by itself', async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const { url, drop } = await privateSchema('outage');
    cleanups.push(drop);
    const pg = new URL(PG_URL);
    const relay = new Relay(await freePort(), { host: pg.hostname, port: Number(pg.port || 5432) });
    await relay.open();
    cleanups.push(() => relay.cut());
    const app = await startApp(testConfig(dir, { DATABASE_URL: throughRelay(url, relay) }));
    cleanups.push(() => app.close());

    await api(app).post('/ratings').send({ ratings: [{ userId: 'u1', itemId: 'a', rating: 4 }, { userId: 'u2', itemId: 'a', rating: 5 }] }).expect(200);
    await relay.cut();

    const refused = await api(app).post('/ratings').send({ userId: 'u3', itemId: 'b', rating: 3 });
    expect(refused.status).toBe(503);
    expect(refused.body).toMatchObject({ code: 'database_unavailable' });
    expect(refused.headers['retry-after']).toBe('5');
    expect((await api(app).get('/users/u1/recommendations')).status).toBe(503);
    expect((await api(app).get('/healthz')).status).toBe(200);
    const ready = await api(app).get('/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body.problems[0]).toMatch(/^database: /);

    await relay.open();
    await until(async () => (await api(app).get('/readyz')).status === 200, 15_000, 'ready again');
    await api(app).post('/ratings').send({ userId: 'u3', itemId: 'b', rating: 3 }).expect(200);
    // What was acknowledged before the outage is there; what was refused during it was not half-written.
    expect(await app.services.database.stats.counts()).toMatchObject({ users: 3, items: 2, ratings: 3 });
    expect((await api(app).get('/users/u1/recommendations')).status).toBe(200);
  }, 600_000);
});

describe('a database that disappears', () => {
  it('answers 503 database_unavailable with Retry-After, not 500, once its database is dropped', async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const name = `gone_${process.pid}_${Date.now()}`;
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    cleanups.push(async () => {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    });
    await admin.query(`CREATE DATABASE ${name}`);
    const url = new URL(PG_URL);
    url.pathname = `/${name}`;
    const app = await startApp(testConfig(dir, { DATABASE_URL: url.toString() }));
    cleanups.push(() => app.close());
    await api(app).post('/ratings').send({ userId: 'u1', itemId: 'a', rating: 4 }).expect(200);
    await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);

    const refused = await api(app).post('/ratings').send({ userId: 'u2', itemId: 'a', rating: 4 });
    expect(refused.status, JSON.stringify(refused.body)).toBe(503);
    expect(refused.body).toMatchObject({ code: 'database_unavailable' });
    expect(refused.headers['retry-after']).toBeDefined();
    expect((await api(app).get('/readyz')).status).toBe(503);
  }, 600_000);
});
