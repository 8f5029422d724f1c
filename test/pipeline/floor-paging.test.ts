import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, startApp, tempDir, testConfig } from '../helpers/app.js';
import { AUTH, ingestSynthetic, until, waitForJob } from '../helpers/training.js';

interface Answer {
  items: { itemId: string; source: string; score: number }[];
  notes: { source: string; note: string }[];
  source: string;
  method: string;
  nextCursor: string | null;
}

let app: FastifyInstance;
let cleanup: () => void;
const SOLO = ['solo1', 'solo2', 'solo3'];

beforeAll(async () => {
  let dir: string;
  ({ dir, cleanup } = tempDir());
  app = await startApp(testConfig(dir, { MODEL_POLL_MS: '100', POPULARITY_REFRESH_MS: '100' }));
  await ingestSynthetic(app, 120, 150, 9);
  // Items only one user ever touched: whatever a model says about their neighbours is noise.
  await api(app).post('/ratings').send({ ratings: SOLO.map((itemId) => ({ userId: 'hermit', itemId, rating: 5 })) }).expect(200);
  const job = await waitForJob(app, (await api(app).post('/admin/retrain').set(AUTH).send({ model: 'ease' })).body.jobId);
  expect(job.state, job.error ?? '').toBe('completed');
  await until(async () => (await api(app).get('/users/u1/recommendations')).body.model === 'ease', 15_000, 'ease serving');
}, 600_000);
afterAll(async () => {
  await app.close();
  cleanup();
});

describe('confidence floor and fallback chain', () => {
  it('hands a session of items nobody else touched to the next source, and says so', async () => {
    const res = await api(app).post('/recommendations?limit=10').send({ items: SOLO });
    expect(res.status).toBe(200);
    const answer = res.body as Answer;
    expect(answer.source).toBe('fallback');
    expect(answer.items).toHaveLength(10);
    expect(answer.items.every((i) => i.source === 'popular')).toBe(true);
    const model = answer.notes.find((n) => n.source === 'model');
    expect(model?.note).toMatch(/below the floor 0.05/);
    // Alone, the model shows what it would have said: scores near zero.
    const alone = (await api(app).post('/recommendations?limit=3&source=model').send({ items: SOLO })).body as Answer;
    expect(alone.items.every((i) => Math.abs(i.score) < 0.05)).toBe(true);
  });

  it('keeps the model for a session it knows something about', async () => {
    const res = (await api(app).post('/recommendations?limit=10').send({ items: ['i1', 'i2', 'i3'] })).body as Answer;
    expect(res.source).toBe('model');
    expect(res.method).toBe('fold-in');
    expect(res.items[0].source).toBe('model');
    expect(res.notes.find((n) => n.source === 'model')).toBeUndefined();
  });

  it('fills a list the model cannot fill from the fallback sources, below the model\'s items', async () => {
    const answer = (await api(app).get('/users/u4/recommendations?limit=100&category=none-such')).body as Answer;
    expect(answer.items).toEqual([]);
    const deep = (await api(app).get('/users/u4/recommendations?limit=100&offset=100')).body as Answer;
    const sources = deep.items.map((i) => i.source);
    // Past the model's 100 candidates, the fallback chain continues the list.
    expect(sources.length).toBeGreaterThan(0);
    expect(sources.some((s) => s !== 'model')).toBe(true);
  });
});

describe('paging', () => {
  it('a cursor walks one fixed list: every item once, in order, across pages of any size', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    const sizes = [7, 13, 30, 1, 50, 100];
    let page = 0;
    do {
      const q: string = `limit=${sizes[page % sizes.length]}${cursor ? `&cursor=${cursor}` : ''}`;
      const res = await api(app).get(`/users/u7/recommendations?${q}`);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      seen.push(...(res.body as Answer).items.map((i) => i.itemId));
      cursor = (res.body as Answer).nextCursor;
      page++;
    } while (cursor && page < 100);
    expect(cursor).toBeNull();
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.length).toBeGreaterThan(100);
    // The pipeline's default depth bounds the list.
    expect(seen.length).toBeLessThanOrEqual(200);
    // An offset into the same (cached) list agrees with the cursor walk.
    const offset = (await api(app).get('/users/u7/recommendations?limit=10&offset=20')).body as Answer;
    expect(offset.items.map((i) => i.itemId)).toEqual(seen.slice(20, 30));
  });

  it('refuses a cursor of another user, a forged one, and answers 410 for an expired one', async () => {
    const first = (await api(app).get('/users/u8/recommendations?limit=5')).body as Answer;
    const other = await api(app).get(`/users/u9/recommendations?cursor=${first.nextCursor}`);
    expect(other.status).toBe(400);
    expect(other.body.details[0].path).toBe('query.cursor');
    expect((await api(app).get('/users/u8/recommendations?cursor=not-a-cursor')).status).toBe(400);
    const unknown = Buffer.from('AAAAAAAAAAAAAAAA.5').toString('base64url');
    const expired = await api(app).get(`/users/u8/recommendations?cursor=${unknown}`);
    expect(expired.status).toBe(410);
    expect(expired.body.code).toBe('cursor_expired');
  });
});
