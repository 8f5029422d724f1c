import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { api, startApp, tempDir, testConfig, sqliteDb } from '../helpers/app.js';
import { AUTH, ingestSynthetic, until, waitForJob } from '../helpers/training.js';
import { generateSynthetic } from '../../src/data/synthetic.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function app(env: Record<string, string> = {}): Promise<FastifyInstance> {
  const { dir, cleanup } = tempDir();
  cleanups.push(cleanup);
  const a = await startApp(testConfig(dir, { POPULARITY_REFRESH_MS: '100', MODEL_POLL_MS: '100', ...env }));
  cleanups.push(() => a.close());
  return a;
}
const ids = (body: { items: { itemId: string }[] }) => body.items.map((i) => i.itemId);
const rowCount = (a: FastifyInstance) => sqliteDb(a).prepare('SELECT (SELECT COUNT(*) FROM ratings) + (SELECT COUNT(*) FROM events) + (SELECT COUNT(*) FROM users)').pluck().get() as number;

describe('GET /popular', () => {
  it('counts positive feedback only, events by weight, and ranks data from 1998 as if it were today', async () => {
    const a = await app();
    const t = Date.UTC(1998, 3, 1);
    const ratings = [
      ...Array.from({ length: 6 }, (_, k) => ({ userId: `u${k}`, itemId: 'disliked', rating: 1, timestamp: t })),
      ...Array.from({ length: 2 }, (_, k) => ({ userId: `u${k}`, itemId: 'liked', rating: 5, timestamp: t })),
    ];
    await api(a).post('/ratings').send({ ratings }).expect(200);
    await api(a)
      .post('/events')
      .send({ events: [{ userId: 'u9', itemId: 'bought', type: 'purchase', timestamp: t }, ...Array.from({ length: 5 }, (_, k) => ({ userId: `v${k}`, itemId: 'hated', type: 'dislike', timestamp: t }))] })
      .expect(200);
    await until(async () => ids((await api(a).get('/popular')).body).length === 2, 15_000, 'ranking');
    const res = await api(a).get('/popular');
    // purchase weighs 4, two 5-star ratings 2; six 1-star ratings and five dislikes count for nothing.
    expect(ids(res.body)).toEqual(['bought', 'liked']);
    expect(res.body.items[0].score).toBeCloseTo(4, 6);
    expect(res.body.computedAt).toMatch(/^\d{4}-/);
    // New users get the same leaderboard first; the fallback chain then fills the list with the newest items.
    const newUser = (await api(a).get('/users/nobody/recommendations')).body;
    expect(ids(newUser).slice(0, 2)).toEqual(['bought', 'liked']);
    expect(newUser.items.map((i: { source: string }) => i.source)).toEqual(['popular', 'popular', ...newUser.items.slice(2).map(() => 'latest')]);
  });

  it('after a year of imported history and two fresh ratings, still ranks the history\'s most-liked items first', async () => {
    const a = await app();
    const yearAgo = Date.now() - 365 * 86_400_000;
    const ratings = [...generateSynthetic({ users: 200, items: 120, density: 0.08, seed: 4, start: yearAgo - 30 * 86_400_000 })].map((r) => ({ userId: r.user, itemId: r.item, rating: r.rating, timestamp: r.ts }));
    await api(a).post('/ratings').send({ ratings }).expect(200);
    await api(a).post('/ratings').send({ ratings: [{ userId: 'fresh1', itemId: 'brand-new-1', rating: 5 }, { userId: 'fresh2', itemId: 'brand-new-2', rating: 5 }] }).expect(200);
    const liked = new Map<string, number>();
    for (const r of ratings) if ((r.rating ?? 0) > 2) liked.set(r.itemId, (liked.get(r.itemId) ?? 0) + 1);
    const expected = [...liked].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1)).slice(0, 5).map((e) => e[0]);
    await until(() => a.services.leaderboards.board('popular')?.ranking.items.includes('brand-new-1') ?? false, 15_000, 'fresh ratings counted');
    expect(ids((await api(a).get('/popular?limit=5')).body)).toEqual(expected);
  });

  it('filters by category like recommendations', async () => {
    const a = await app();
    await api(a).put('/items').send({ items: [{ itemId: 'x', categories: ['c1'] }, { itemId: 'y', categories: ['c2'] }] }).expect(200);
    await api(a).post('/ratings').send({ ratings: [{ userId: 'u', itemId: 'x', rating: 5 }, { userId: 'u', itemId: 'y', rating: 5 }, { userId: 'v', itemId: 'y', rating: 5 }] }).expect(200);
    await until(async () => ids((await api(a).get('/popular')).body).length === 2, 15_000, 'ranking');
    expect(ids((await api(a).get('/popular?category=c1')).body)).toEqual(['x']);
    expect(ids((await api(a).get('/popular?exclude=y')).body)).toEqual(['x']);
  });
});

describe('GET /latest', () => {
  it('lists the newest items first, without hidden ones, with filters', async () => {
    const a = await app();
    for (const [itemId, categories] of [['old', ['a']], ['mid', ['b']], ['new', ['a']]] as const) {
      await api(a).put(`/items/${itemId}`).send({ categories }).expect(200);
      await new Promise((r) => setTimeout(r, 5));
    }
    await api(a).put('/items/hidden').send({ hidden: true }).expect(200);
    a.services.leaderboards.changed();
    await until(async () => ids((await api(a).get('/latest')).body).length === 3, 15_000, 'latest list');
    const res = await api(a).get('/latest');
    expect(ids(res.body)).toEqual(['new', 'mid', 'old']);
    expect(ids((await api(a).get('/latest?category=a&limit=1')).body)).toEqual(['new']);
  });
});

describe('POST /recommendations (anonymous session)', () => {
  it('folds the session into the serving model, leaves its own items out, and stores nothing', async () => {
    const a = await app();
    await ingestSynthetic(a, 80, 100);
    const job = await waitForJob(a, (await api(a).post('/admin/retrain').set(AUTH).send({ model: 'ease' })).body.jobId);
    expect(job.state).toBe('completed');
    await until(async () => (await api(a).get('/users/u1/recommendations')).body.model === 'ease', 15_000, 'ease serving');
    const before = rowCount(a);
    const res = await api(a).post('/recommendations?limit=5').send({ items: ['i1', 'i2', 'i3'], ratings: [5, 4, 5] });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ model: 'ease', source: 'model', method: 'fold-in' });
    expect(ids(res.body)).toHaveLength(5);
    expect(ids(res.body).filter((id) => ['i1', 'i2', 'i3'].includes(id))).toEqual([]);
    expect(rowCount(a)).toBe(before);
    const bad = await api(a).post('/recommendations').send({ items: ['i1'], ratings: [5, 4] });
    expect(bad.status).toBe(400);
    expect(bad.body.details[0].path).toBe('body.ratings');
  }, 600_000);

  it('without a model, answers popular items other than the session\'s', async () => {
    const a = await app();
    await api(a).post('/ratings').send({ ratings: [{ userId: 'u', itemId: 'p', rating: 5 }, { userId: 'u', itemId: 'q', rating: 5 }, { userId: 'v', itemId: 'p', rating: 5 }] }).expect(200);
    await until(async () => ids((await api(a).get('/popular')).body).length === 2, 15_000, 'ranking');
    const res = await api(a).post('/recommendations').send({ items: ['p'] });
    expect(res.body).toMatchObject({ source: 'fallback' });
    expect(ids(res.body)).toEqual(['q']);
  });
});

describe('explain=true', () => {
  it.each(['ease', 'ials'] as const)('%s: names only items from the user\'s own history, strongest first', async (model) => {
    const a = await app();
    await ingestSynthetic(a, 80, 100);
    const job = await waitForJob(a, (await api(a).post('/admin/retrain').set(AUTH).send({ model })).body.jobId);
    expect(job.state).toBe('completed');
    await until(async () => (await api(a).get('/users/u1/recommendations')).body.model === model, 15_000, `${model} serving`);
    const history = new Set(((await api(a).get('/users/u1/history?limit=500')).body.items as { itemId: string }[]).map((h) => h.itemId));
    const res = await api(a).get('/users/u1/recommendations?explain=true&limit=5');
    const items = res.body.items as { itemId: string; because: { itemId: string; weight: number }[] }[];
    expect(items).toHaveLength(5);
    expect(items.some((i) => i.because.length > 0)).toBe(true);
    for (const item of items) {
      expect(item.because.length).toBeLessThanOrEqual(3);
      for (const reason of item.because) expect(history.has(reason.itemId)).toBe(true);
      const weights = item.because.map((r) => r.weight);
      expect(weights).toEqual([...weights].sort((x, y) => y - x));
    }
    // Without the flag the answer carries no explanation.
    expect((await api(a).get('/users/u1/recommendations?limit=5')).body.items[0].because).toBeUndefined();
  }, 600_000);
});

describe('GET /users/:id/similar', () => {
  it('returns the users with the closest vectors (exact cosine), and says when the model has none', async () => {
    const a = await app();
    await ingestSynthetic(a, 80, 100);
    for (const model of ['ials', 'ease']) expect((await waitForJob(a, (await api(a).post('/admin/retrain').set(AUTH).send({ model, force: true })).body.jobId)).state).toBe('completed');
    await until(() => a.services.store.current('ials') !== null && a.services.store.current('ease') !== null, 15_000, 'both models loaded');
    const res = await api(a).get('/users/u1/similar?limit=5&model=ials');
    expect(res.status).toBe(200);
    const users = res.body.users as { userId: string; score: number }[];
    expect(users).toHaveLength(5);
    expect(users.map((u) => u.userId)).not.toContain('u1');
    // The same ranking computed here from the snapshot's user vectors.
    const index = a.services.store.current('ials')!;
    const d = index.dims;
    const vec = (id: string) => index.userVectors!.subarray(index.userIndex.get(id)! * d, (index.userIndex.get(id)! + 1) * d);
    const cos = (x: Float32Array, y: Float32Array) => x.reduce((s, v, f) => s + v * y[f], 0) / Math.sqrt(x.reduce((s, v) => s + v * v, 0) * y.reduce((s, v) => s + v * v, 0));
    const expected = index.userIds.filter((id) => id !== 'u1').map((id) => ({ id, s: cos(vec('u1'), vec(id)) })).sort((x, y) => y.s - x.s).slice(0, 5);
    expect(users.map((u) => u.userId)).toEqual(expected.map((e) => e.id));
    users.forEach((u, k) => expect(u.score).toBeCloseTo(expected[k].s, 4));

    const noVectors = await api(a).get('/users/u1/similar?model=ease');
    expect(noVectors.status).toBe(409);
    expect(noVectors.body.code).toBe('not_supported');
    expect((await api(a).get('/users/nobody/similar?model=ials')).status).toBe(404);
  }, 600_000);
});
