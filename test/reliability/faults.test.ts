import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { api, startApp, tempDir, testConfig, sqliteDb } from '../helpers/app.js';
import { PrivateRedis } from '../helpers/redis.js';
import { AUTH, ingestSynthetic, until, waitForJob } from '../helpers/training.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('Redis goes away and comes back', () => {
  it('keeps ingest and serving working, answers retrain with 503 while down, and recovers', async () => {
    const redis = await PrivateRedis.start();
    cleanups.push(() => redis.stop());
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const app: FastifyInstance = await startApp(testConfig(dir, { REDIS_URL: redis.url, QUEUE_NAME: `outage-${process.pid}` }));
    cleanups.push(() => app.close());
    await api(app).post('/ratings').send({ userId: 'a', itemId: 'x', rating: 4 }).expect(200);
    expect((await api(app).post('/admin/retrain').set(AUTH).send({ model: 'pop' })).status).toBe(202);

    await redis.kill();
    await api(app).post('/ratings').send({ userId: 'b', itemId: 'y', rating: 5 }).expect(200);
    await api(app).post('/events').send({ userId: 'b', itemId: 'x', type: 'view' }).expect(200);
    await api(app).get('/users/b/recommendations').expect(200);
    await api(app).get('/items/x/similar').expect(200);
    await api(app).get('/readyz').expect(200);
    const down = await api(app).post('/admin/retrain').set(AUTH).send({ model: 'gmf' });
    expect(down.status).toBe(503);
    expect(down.body).toMatchObject({ code: 'queue_unavailable' });
    expect(down.headers['retry-after']).toBeDefined();
    // The refused request left no job record behind that would block the next request.
    const queued = (await api(app).get('/admin/jobs?state=queued').set(AUTH)).body.jobs as { model: string }[];
    expect(queued.filter((j) => j.model === 'gmf')).toEqual([]);

    await redis.restart();
    await until(async () => (await api(app).post('/admin/retrain').set(AUTH).send({ model: 'gmf' })).status === 202, 15_000, 'retrain accepted again');
  }, 600_000);
});

describe('snapshot write failure (disk full)', () => {
  it('fails the job with a clear error, leaves no partial snapshot, and the active model keeps serving', async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const config = testConfig(dir, { MODEL_POLL_MS: '100', JOB_ATTEMPTS: '1' });
    const app = await startApp(config);
    await ingestSynthetic(app, 80, 100);
    const first = await waitForJob(app, (await api(app).post('/admin/retrain').set(AUTH).send({ model: 'gmf', epochs: 2, factors: 8 })).body.jobId);
    expect(first.state).toBe('completed');
    await app.close();

    // The same data dir, restarted with snapshot writes failing as on a full disk (training runs
    // in a worker thread, so the fault comes in through configuration).
    const full = await startApp(testConfig(dir, { MODEL_POLL_MS: '100', JOB_ATTEMPTS: '1', FAULT_SNAPSHOT_ERROR: 'ENOSPC' }));
    cleanups.push(() => full.close());
    await until(async () => (await api(full).get('/users/u1/recommendations')).body.modelVersion === first.result!.version, 10_000, 'v1 served');
    const failed = await waitForJob(full, (await api(full).post('/admin/retrain').set(AUTH).send({ model: 'gmf', epochs: 2, factors: 8, seed: 3 })).body.jobId);
    expect(failed.state).toBe('failed');
    expect(failed.error).toMatch(/ENOSPC/);
    expect(readdirSync(join(config.modelDir, 'gmf'))).toEqual([first.result!.version]);
    expect(sqliteDb(full).prepare('SELECT COUNT(*) FROM models').pluck().get()).toBe(1);
    const recs = await api(full).get('/users/u1/recommendations');
    expect(recs.body).toMatchObject({ source: 'model', modelVersion: first.result!.version });
  }, 600_000);
});
