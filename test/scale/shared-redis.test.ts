import { afterEach, describe, expect, it } from 'vitest';
import { api, startApp, tempDir, testConfig } from '../helpers/app.js';
import { privateSchema } from '../helpers/postgres.js';
import { PrivateRedis } from '../helpers/redis.js';
import { until } from '../helpers/training.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Two API replicas on one PostgreSQL schema and one (private) Redis. */
async function replicas() {
  const redis = await PrivateRedis.start();
  cleanups.push(() => redis.stop());
  const { url, drop } = await privateSchema('limits');
  cleanups.push(drop);
  const apps = [];
  for (let k = 0; k < 2; k++) {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const app = await startApp(testConfig(dir, { DATABASE_URL: url, REDIS_URL: redis.url, QUEUE_NAME: `limits-${process.pid}`, STATS_REFRESH_MS: '200' }));
    cleanups.push(() => app.close());
    apps.push(app);
  }
  return { redis, a: apps[0], b: apps[1] };
}

describe('what replicas share through Redis', () => {
  it('the serving chart adds up every replica: traffic served by B shows on A\'s dashboard', async () => {
    const { a, b } = await replicas();
    const chart = async () => (await api(a).get('/admin/stats/serving')).body as { scope: string; processes: number; series: { requests: number; answers: { popularity: number } }[] };
    await until(async () => (await chart()).processes === 2, 10_000, 'both replicas reporting');
    for (let k = 0; k < 40; k++) expect((await api(b).get(`/users/someone-${k}/recommendations`)).status).toBe(200);
    await until(async () => (await chart()).series.some((s) => s.requests > 0 && s.answers.popularity > 0), 10_000, 'B\'s answers on A\'s chart');
    // A served none of them: counted per process, its chart would show no requests at all.
    expect((await chart()).scope).toBe('deployment');
  }, 600_000);

  it('a key gets its requests and bytes per minute once, whichever replicas it reaches; a Redis outage lets traffic through', async () => {
    const { redis, a, b } = await replicas();
    const created = await api(a).post('/admin/keys').send({ name: 'shared', scopes: ['write'], requestsPerMinute: 4 });
    expect(created.status).toBe(201);
    const key = created.body.key as string;
    const statuses: number[] = [];
    for (let k = 0; k < 6; k++) statuses.push((await api(k % 2 ? b : a, key).post('/ratings').send({ userId: 'rl', itemId: `i${k}`, rating: 3 })).status);
    // Counted per process this would be 6 × 200 (three requests to each).
    expect(statuses).toEqual([200, 200, 200, 200, 429, 429]);

    const bytesKey = (await api(b).post('/admin/keys').send({ name: 'bytes', scopes: ['write'], bytesPerMinute: 3000 })).body.key as string;
    const body = JSON.stringify({ ratings: Array.from({ length: 25 }, (_, k) => ({ userId: 'bytes', itemId: `item-${k}`, rating: 4 })) });
    const send = (app: typeof a) => api(app, bytesKey).post('/ratings').set('content-type', 'application/json').send(body);
    expect((await send(a)).status).toBe(200);
    expect((await send(b)).status).toBe(200);
    const third = await send(a);
    expect(third.status).toBe(429);
    expect(Number(third.headers['retry-after'])).toBeGreaterThan(0);

    // Redis gone: each process counts alone again instead of refusing everyone.
    await redis.kill();
    const fresh = (await api(a).post('/admin/keys').send({ name: 'during-outage', scopes: ['write'], requestsPerMinute: 2 })).body.key as string;
    const during = [];
    for (let k = 0; k < 3; k++) during.push((await api(a, fresh).post('/ratings').send({ userId: 'o', itemId: `i${k}`, rating: 3 })).status);
    expect(during.slice(0, 2)).toEqual([200, 200]);
    expect(during.every((s) => s === 200 || s === 429)).toBe(true);
  }, 600_000);
});
