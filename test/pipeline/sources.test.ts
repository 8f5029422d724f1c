import fs from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, startApp, tempDir, testConfig } from '../helpers/app.js';
import { AUTH, ingestSynthetic, until, waitForJob } from '../helpers/training.js';

/** A pipeline with every kind of source, some of each configured beyond the defaults. */
const CONFIG = `
pipeline:
  sources:
    co: { type: item-to-item, method: cooccurrence }
    even: { type: leaderboard, category: even }
    recent-week: { type: leaderboard, windowDays: 7, halfLifeDays: 1, clock: data }
  blend: [model, item-to-item, co, user-to-user, popular]
  fallback: [co, popular, latest]
`;

interface Item {
  itemId: string;
  score: number;
  source: string;
  sources?: Record<string, number>;
  because?: { itemId: string; weight: number }[];
}
interface Answer {
  items: Item[];
  notes: { source: string; note: string }[];
  source: string;
  ranker: string;
  nextCursor: string | null;
  intraListSimilarity: number | null;
}

let app: FastifyInstance;
let cleanup: () => void;
const historyOf = async (user: string): Promise<Set<string>> => new Set(((await api(app).get(`/users/${user}/history?limit=500`)).body.items as { itemId: string }[]).map((h) => h.itemId));
const recs = async (user: string, query: string): Promise<Answer> => {
  const res = await api(app).get(`/users/${user}/recommendations?${query}`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body as Answer;
};

beforeAll(async () => {
  let dir: string;
  ({ dir, cleanup } = tempDir());
  fs.writeFileSync(path.join(dir, 'recflow.yaml'), CONFIG);
  app = await startApp(testConfig(dir, { RECFLOW_CONFIG: path.join(dir, 'recflow.yaml'), MODEL_POLL_MS: '100', POPULARITY_REFRESH_MS: '100' }));
  await ingestSynthetic(app, 150, 200, 5);
  await api(app)
    .put('/items')
    .send({ items: Array.from({ length: 200 }, (_, k) => ({ itemId: `i${k + 1}`, categories: [k % 2 ? 'odd' : 'even'] })) })
    .expect(200);
  const job = await waitForJob(app, (await api(app).post('/admin/retrain').set(AUTH).send({ model: 'ials', epochs: 8 })).body.jobId, undefined, 120_000);
  expect(job.state, job.error ?? '').toBe('completed');
  await until(async () => (await api(app).get('/users/u1/recommendations')).body.model === 'ials', 15_000, 'ials serving');
  await until(async () => (await api(app).get('/leaderboards/even')).body.items.length > 0, 15_000, 'leaderboards');
}, 600_000);
afterAll(async () => {
  await app.close();
  cleanup();
});

describe('each source alone (?source=)', () => {
  it.each(['model', 'item-to-item', 'co', 'user-to-user', 'popular', 'even', 'latest'])('%s answers on its own, in its own order, never with a seen item', async (source) => {
    const seen = await historyOf('u3');
    const answer = await recs('u3', `source=${source}&limit=20`);
    expect(answer.items.length, JSON.stringify(answer.notes)).toBeGreaterThan(0);
    expect(answer.items.every((i) => i.source === source)).toBe(true);
    expect(answer.items.filter((i) => seen.has(i.itemId))).toEqual([]);
    const scores = answer.items.map((i) => i.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    expect(new Set(answer.items.map((i) => i.itemId)).size).toBe(answer.items.length);
  });

  it('a category leaderboard holds only its category, scored relative to its top item', async () => {
    const board = (await api(app).get('/leaderboards/even?limit=50')).body as { name: string; items: { itemId: string; score: number }[] };
    expect(board.name).toBe('even');
    expect(board.items.every((i) => Number(i.itemId.slice(1)) % 2 === 1)).toBe(true);
    const alone = await recs('nobody-at-all', 'source=even&limit=5');
    expect(alone.items[0].score).toBeCloseTo(1, 6);
  });

  it('a windowed leaderboard on the data clock counts only its last days', async () => {
    const week = (await api(app).get('/leaderboards/recent-week?limit=100')).body.items as { itemId: string }[];
    const all = (await api(app).get('/popular?limit=100')).body.items as { itemId: string }[];
    expect(week.length).toBeGreaterThan(0);
    expect(week.length).toBeLessThan(all.length);
  });

  it('user-to-user proposes only what the nearest users liked', async () => {
    const neighbours = (await api(app).get('/users/u3/similar?limit=20')).body.users as { userId: string }[];
    const liked = new Set<string>();
    for (const n of neighbours) for (const item of await historyOf(n.userId)) liked.add(item);
    const answer = await recs('u3', 'source=user-to-user&limit=20');
    expect(answer.items.filter((i) => !liked.has(i.itemId))).toEqual([]);
  });

  it('an unknown source is a 400 naming the parameter', async () => {
    const res = await api(app).get('/users/u3/recommendations?source=nope');
    expect(res.status).toBe(400);
    expect(res.body.details[0].path).toBe('query.source');
  });

  it('similar items can come from a named item-to-item source; other kinds are refused', async () => {
    const res = await api(app).get('/items/i2/similar?source=co&limit=5');
    expect(res.status).toBe(200);
    expect(res.body.items.every((i: Item) => i.source === 'co' && i.itemId !== 'i2')).toBe(true);
    expect((await api(app).get('/items/i2/similar?source=popular')).status).toBe(409);
  });
});

describe('blended', () => {
  it('merges every source once, credits each item to a blended source, and says who else proposed it', async () => {
    const seen = await historyOf('u5');
    const answer = await recs('u5', 'limit=40&explain=true');
    expect(answer.ranker).toBe('priority');
    expect(new Set(answer.items.map((i) => i.itemId)).size).toBe(40);
    expect(answer.items.filter((i) => seen.has(i.itemId))).toEqual([]);
    expect(answer.items.every((i) => ['model', 'item-to-item', 'co', 'user-to-user', 'popular', 'latest'].includes(i.source))).toBe(true);
    // Priority: the model's items first, in its order; every item remembers each proposing source.
    const model = await recs('u5', 'source=model&limit=40');
    const firstModel = answer.items.filter((i) => i.source === 'model').map((i) => i.itemId);
    expect(firstModel).toEqual(model.items.slice(0, firstModel.length).map((i) => i.itemId));
    expect(answer.items.some((i) => Object.keys(i.sources ?? {}).length > 1)).toBe(true);
    for (const i of answer.items) expect(i.sources![i.source]).toBeDefined();
    expect(answer.source).toBe('model');
    expect(typeof answer.intraListSimilarity).toBe('number');
  });

  it('keeps the top-level fields older clients read', async () => {
    const answer = (await api(app).get('/users/u5/recommendations?limit=3')).body;
    expect(answer).toMatchObject({ userId: 'u5', model: 'ials', source: 'model', method: 'trained' });
    expect(answer.modelVersion).toMatch(/^\d{8}-/);
  });

  it('the job result reports the ranker beside the model', async () => {
    const jobs = (await api(app).get('/admin/jobs?limit=1').set(AUTH)).body.jobs as { result: { pipeline: { ranker: string; test: Record<string, number> } | null } }[];
    expect(jobs[0].result.pipeline).toMatchObject({ ranker: expect.any(String), test: { 'HR@10': expect.any(Number) } });
  });
});
