import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bucketQuantile, mergeIntervals } from '../../src/stats/serving-series.js';
import { api, startApp, tempDir, testConfig } from '../helpers/app.js';
import { until } from '../helpers/training.js';

let app: FastifyInstance;
let cleanup: () => void;
const HOUR = 3_600_000;

beforeAll(async () => {
  let dir: string;
  ({ dir, cleanup } = tempDir());
  app = await startApp(testConfig(dir, { STATS_REFRESH_MS: '100' }));
});

afterAll(async () => {
  await app?.close();
  cleanup?.();
});

const stats = async () => (await api(app).get('/admin/stats')).body as { computedAt: string | null; counts: Record<string, number>; categories: { category: string; items: number }[]; jobs: Record<string, number> };

describe('dashboard statistics', () => {
  it('counts rows and buckets ingest by hour, computed off the request path', async () => {
    const ratings = Array.from({ length: 12 }, (_, k) => ({ userId: `s${k % 4}`, itemId: `t${k}`, rating: 4 }));
    expect((await api(app).post('/ratings').send({ ratings })).status).toBe(200);
    const events = Array.from({ length: 5 }, (_, k) => ({ userId: 's0', itemId: `t${k}`, type: 'click' }));
    expect((await api(app).post('/events').send({ events })).status).toBe(200);
    expect((await api(app).put('/items').send({ items: [{ itemId: 't1', categories: ['a', 'b'] }, { itemId: 't2', categories: ['a'], hidden: true }] })).status).toBe(200);
    // A recomputation may land between the writes: wait for the one after the last (the catalogue's).
    await until(async () => {
      const { counts } = await stats();
      return counts.events === 5 && counts.hiddenItems === 1;
    }, 5000, 'stats to follow the writes');
    const s = await stats();
    expect(s.counts).toEqual({ users: 4, items: 12, ratings: 12, events: 5, hiddenItems: 1 });
    expect(s.categories).toEqual([{ category: 'a', items: 2 }, { category: 'b', items: 1 }]);
    expect(s.jobs).toMatchObject({ queued: 0, active: 0, completed: 0, failed: 0 });

    const hourly = (await api(app).get('/admin/stats/ingest?bucket=hour')).body as { series: { t: string; ratings: number; events: number }[] };
    expect(hourly.series).toHaveLength(48);
    const last = hourly.series[hourly.series.length - 1];
    expect(Date.parse(last.t)).toBe(Date.now() - (Date.now() % HOUR));
    expect(hourly.series.reduce((n, b) => n + b.ratings, 0)).toBe(12);
    expect(hourly.series.reduce((n, b) => n + b.events, 0)).toBe(5);
    expect(((await api(app).get('/admin/stats/ingest?bucket=day')).body as { series: unknown[] }).series).toHaveLength(30);

    // Reading the figures never asks the database: only the reader thread's timer does.
    const asked = app.services.reader.counts.stats;
    for (let k = 0; k < 20; k++) await stats();
    expect(app.services.reader.counts.stats - asked).toBeLessThanOrEqual(1);
  });

  it('rejects a bad bucket naming the field', async () => {
    const res = await api(app).get('/admin/stats/ingest?bucket=week');
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body.details)).toContain('query.bucket');
  });

  it('samples serving answers per second by how they were made, with latency', async () => {
    // No model is trained: every answer is the popularity fallback.
    for (let k = 0; k < 6; k++) expect((await api(app).get(`/users/s${k % 4}/recommendations`)).status).toBe(200);
    await until(async () => {
      const { series } = (await api(app).get('/admin/stats/serving')).body as { series: { answers: Record<string, number>; p99Ms: number | null }[] };
      return series.some((p) => p.answers.popularity > 0 && p.p99Ms !== null);
    }, 5000, 'a sample with the answers');
    const { series, sampleSeconds } = (await api(app).get('/admin/stats/serving')).body as { sampleSeconds: number; series: { answers: Record<string, number>; requests: number; p50Ms: number | null; p99Ms: number | null }[] };
    expect(sampleSeconds).toBe(0.1);
    const busy = series.find((p) => p.answers.popularity > 0)!;
    expect(busy.answers.trained).toBe(0);
    expect(busy.requests).toBeGreaterThan(0);
    expect(busy.p50Ms!).toBeLessThanOrEqual(busy.p99Ms!);
  });

  it('estimates quantiles from cumulative buckets like histogram_quantile', () => {
    const buckets: [number, number][] = [[0.001, 0], [0.005, 50], [0.01, 100], [Infinity, 100]];
    expect(bucketQuantile(0.5, buckets)).toBeCloseTo(0.005);
    expect(bucketQuantile(0.25, buckets)).toBeCloseTo(0.003);
    expect(bucketQuantile(0.99, buckets)).toBeCloseTo(0.0099);
    expect(bucketQuantile(0.5, [[0.001, 0], [Infinity, 0]])).toBeNull();
    expect(bucketQuantile(0.99, [[0.001, 1], [Infinity, 10]])).toBe(0.001);
  });

  it('adds several processes\' intervals: rates sum, quantiles come from the summed buckets', () => {
    const fast = { t: 10_000, seconds: 5, answers: { trained: 50, 'fold-in': 0, popularity: 10 }, buckets: [[0.001, 0], [0.005, 60], [0.01, 60], [Infinity, 60]] as [number, number][] };
    const slow = { t: 10_200, seconds: 4, answers: { trained: 0, 'fold-in': 8, popularity: 32 }, buckets: [[0.001, 0], [0.005, 0], [0.01, 40], [Infinity, 40]] as [number, number][] };
    const merged = mergeIntervals(10_000, [fast, slow]);
    expect(merged.answers).toEqual({ trained: 10, 'fold-in': 2, popularity: 10 });
    expect(merged.requests).toBeCloseTo(60 / 5 + 40 / 4);
    // 100 requests: the median is the 50th, in the fast process's bucket; the 99th is in the slow one's.
    expect(merged.p50Ms).toBeCloseTo(4.3, 1);
    expect(merged.p99Ms).toBeCloseTo(9.9, 1);
    expect(mergeIntervals(0, [])).toMatchObject({ requests: 0, p50Ms: null, p99Ms: null });
  });

  it('searches items by id prefix or category, not both', async () => {
    const ids = (body: { items: { itemId: string }[] }) => body.items.map((i) => i.itemId);
    const prefix = await api(app).get('/items?q=t1');
    expect(ids(prefix.body)).toEqual(['t1', 't10', 't11']);
    expect(prefix.body.nextCursor).toBeNull();
    const first = await api(app).get('/items?category=a&limit=1');
    expect(ids(first.body)).toEqual(['t1']);
    const second = await api(app).get(`/items?category=a&limit=1&after=${first.body.nextCursor}`);
    expect(ids(second.body)).toEqual(['t2']);
    const both = await api(app).get('/items?q=t&category=a');
    expect(both.status).toBe(400);
    expect(JSON.stringify(both.body.details)).toContain('query.category');
  });
});
