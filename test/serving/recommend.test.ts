import type { FastifyInstance } from 'fastify';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, defaultKey, startApp, tempDir, testConfig, sqliteDb } from '../helpers/app.js';
import { AUTH, ingestSynthetic, until, waitForJob } from '../helpers/training.js';

let app: FastifyInstance;
let cleanup: () => void;
let version: string;

async function train(body: Record<string, unknown>): Promise<string> {
  const res = await api(app).post('/admin/retrain').set(AUTH).send(body);
  const job = await waitForJob(app, res.body.jobId);
  if (job.state !== 'completed') throw new Error(`training failed: ${job.error}`);
  return job.result!.version;
}

const recs = (user: string, query = '') => api(app).get(`/users/${encodeURIComponent(user)}/recommendations${query}`);

beforeAll(async () => {
  let dir: string;
  ({ dir, cleanup } = tempDir());
  app = await startApp(testConfig(dir, { MODEL_POLL_MS: '100', PROMOTE_TOLERANCE: '1' }));
});

afterAll(async () => {
  await app.close();
  cleanup();
});

describe('before any model exists', () => {
  it('answers from popularity, excluding what the user has seen', async () => {
    await api(app).post('/ratings').send({
      ratings: [
        { userId: 'a', itemId: 'x', rating: 5 },
        { userId: 'b', itemId: 'x', rating: 4 },
        { userId: 'b', itemId: 'y', rating: 4 },
        { userId: 'c', itemId: 'z', rating: 4 },
      ],
    });
    const res = await recs('a');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ userId: 'a', source: 'fallback', model: 'popularity', modelVersion: null });
    expect(res.body.items.map((i: { itemId: string }) => i.itemId)).toEqual(['y', 'z']);
    const unknown = await recs('never-seen');
    expect(unknown.body.items[0].itemId).toBe('x');
    const similar = await api(app).get('/items/x/similar');
    expect(similar.status).toBe(200);
    expect(similar.body).toMatchObject({ itemId: 'x', source: 'fallback' });
    expect(similar.body.items.map((i: { itemId: string }) => i.itemId)).not.toContain('x');
  });

  it('rejects bad query parameters naming the field, and unknown items with 404', async () => {
    for (const [query, path] of [
      ['?limit=0', 'query.limit'],
      ['?limit=101', 'query.limit'],
      ['?limit=abc', 'query.limit'],
      ['?exclude_seen=maybe', 'query.exclude_seen'],
      ['?model=svd', 'query.model'],
      ['?colour=red', 'query.colour'],
    ]) {
      const res = await recs('a', query);
      expect(res.status, query).toBe(400);
      expect(res.body.details[0].path, query).toBe(path);
    }
    expect((await api(app).get('/items/nope/similar')).status).toBe(404);
    expect((await recs('a', '?model=einmf')).status).toBe(404);
  });
});

describe('with a trained model', () => {
  beforeAll(async () => {
    await ingestSynthetic(app, 150, 200, 5);
    version = await train({ model: 'gmf', epochs: 5, factors: 16, lr: 0.01 });
    await until(async () => (await recs('u1')).body.modelVersion === version, 10_000, 'model served');
  }, 600_000);

  it('never returns seen items, respects limit, sorts scores, and is stable', async () => {
    const seen = new Set(
      (sqliteDb(app)
        .prepare("SELECT i.external_id FROM ratings r JOIN users u ON u.id = r.user_id JOIN items i ON i.id = r.item_id WHERE u.external_id = 'u7'")
        .pluck()
        .all() as string[]),
    );
    expect(seen.size).toBeGreaterThan(3);
    for (const limit of [1, 10, 100]) {
      const res = await recs('u7', `?limit=${limit}`);
      expect(res.body, JSON.stringify(res.body).slice(0, 600)).toMatchObject({ source: 'model', method: 'trained', model: 'gmf', modelVersion: version });
      expect(res.body.items).toHaveLength(limit);
      const ids = res.body.items.map((i: { itemId: string }) => i.itemId);
      expect(ids.filter((id: string) => seen.has(id))).toEqual([]);
      expect(new Set(ids).size).toBe(ids.length);
      const scores = res.body.items.map((i: { score: number }) => i.score);
      expect(scores).toEqual([...scores].sort((a, b) => b - a));
    }
    // The same list twice; each answer is a new impression with its own recommendationId.
    const answer = async () => {
      const { recommendationId, ...rest } = (await recs('u7', '?limit=20')).body as { recommendationId: string };
      expect(recommendationId).toMatch(/^[0-9a-f-]{36}$/);
      return rest;
    };
    expect(await answer()).toEqual(await answer());
    const withSeen = await recs('u7', '?limit=100&exclude_seen=false');
    expect(withSeen.body.items.some((i: { itemId: string }) => seen.has(i.itemId))).toBe(true);
  });

  it('never recommends disliked items, even with exclude_seen=false', async () => {
    const top = (await recs('u9', '?exclude_seen=false&limit=1')).body.items[0].itemId;
    await api(app).post('/ratings').send({ userId: 'u9', itemId: top, rating: 1 });
    const after = await recs('u9', '?exclude_seen=false&limit=50');
    expect(after.body.items.map((i: { itemId: string }) => i.itemId)).not.toContain(top);
    const next = after.body.items[0].itemId;
    await api(app).post('/events').send({ userId: 'u9', itemId: next, type: 'dislike' }).expect(200);
    const afterEvent = await recs('u9', '?exclude_seen=false&limit=50');
    expect(afterEvent.body.items.map((i: { itemId: string }) => i.itemId)).not.toContain(next);
  });

  it('folds in a user who arrived after the snapshot: similar history, overlapping recommendations', async () => {
    const history = sqliteDb(app)
      .prepare("SELECT i.external_id AS item, r.value FROM ratings r JOIN users u ON u.id = r.user_id JOIN items i ON i.id = r.item_id WHERE u.external_id = 'u3' AND r.value >= 4")
      .all() as { item: string; value: number }[];
    await api(app).post('/ratings').send({ ratings: history.slice(0, 8).map((h) => ({ userId: 'newcomer', itemId: h.item, rating: h.value })) });
    const mine = await recs('newcomer', '?limit=20&exclude_seen=false');
    expect(mine.body).toMatchObject({ source: 'model', method: 'fold-in', modelVersion: version });
    const theirs = await recs('u3', '?limit=20&exclude_seen=false');
    const stranger = await recs('u77', '?limit=20&exclude_seen=false');
    const ids = (r: { body: { items: { itemId: string }[] } }) => new Set(r.body.items.map((i) => i.itemId));
    const overlap = (a: Set<string>, b: Set<string>) => [...a].filter((x) => b.has(x)).length;
    expect(overlap(ids(mine), ids(theirs))).toBeGreaterThanOrEqual(6);
    expect(overlap(ids(mine), ids(theirs))).toBeGreaterThan(overlap(ids(mine), ids(stranger)));
  });

  it('erases a user (admin only): their rows go, and the snapshot vector never answers for them again', async () => {
    const db = sqliteDb(app);
    const rows = (user: string) =>
      db.prepare('SELECT (SELECT COUNT(*) FROM ratings r JOIN users u ON u.id = r.user_id WHERE u.external_id = ?) + (SELECT COUNT(*) FROM events e JOIN users u ON u.id = e.user_id WHERE u.external_id = ?)').pluck().get(user, user) as number;
    await api(app).post('/events').send({ userId: 'u11', itemId: 'i1', type: 'click' }).expect(200);
    expect((await recs('u11')).body).toMatchObject({ source: 'model', method: 'trained' });
    const before = { u11: rows('u11'), u12: rows('u12'), items: db.prepare('SELECT COUNT(*) FROM items').pluck().get() };

    expect((await request(app.server).delete('/users/u11')).status).toBe(401);
    expect((await api(app, defaultKey(app)).delete('/users/u11')).status).toBe(403);
    expect(rows('u11')).toBe(before.u11);
    const erased = await api(app).delete('/users/u11').set(AUTH);
    expect(erased.status).toBe(200);
    expect(erased.body.userId).toBe('u11');
    expect(erased.body.erased.ratings + erased.body.erased.events).toBe(before.u11);
    expect(erased.body.erased.events).toBe(1);
    expect(rows('u11')).toBe(0);
    expect(db.prepare("SELECT COUNT(*) FROM users WHERE external_id = 'u11'").pluck().get()).toBe(0);
    // Nobody else's data and no item goes with them.
    expect(rows('u12')).toBe(before.u12);
    expect(db.prepare('SELECT COUNT(*) FROM items').pluck().get()).toBe(before.items);

    expect((await api(app).get('/users/u11/history')).status).toBe(404);
    expect((await recs('u11')).body).toMatchObject({ source: 'fallback', method: 'popularity' });
    const again = await api(app).delete('/users/u11').set(AUTH);
    expect(again.status).toBe(404);
    expect(again.body.details[0].path).toBe('params.id');

    // The same id coming back is a new user: folded in from its new data, not the old vector.
    await api(app).post('/ratings').send({ userId: 'u11', itemId: 'i2', rating: 5 }).expect(200);
    expect((await recs('u11')).body).toMatchObject({ source: 'model', method: 'fold-in', modelVersion: version });
  });

  it('serves similar items by cosine over item embeddings', async () => {
    const res = await api(app).get('/items/i5/similar?limit=15');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ itemId: 'i5', source: 'model', model: 'gmf', modelVersion: version });
    expect(res.body.items).toHaveLength(15);
    expect(res.body.items.map((i: { itemId: string }) => i.itemId)).not.toContain('i5');
    for (const s of res.body.items) expect(Math.abs(s.score)).toBeLessThanOrEqual(1.0001);
    // A new item (no snapshot embedding yet) is served from the fallback.
    await api(app).post('/events').send({ userId: 'u1', itemId: 'brand-new', type: 'click' });
    const fresh = await api(app).get('/items/brand-new/similar');
    expect(fresh.body.source).toBe('fallback');
  });

  it('swaps to a new version mid-traffic without a failed request', async () => {
    let stop = false;
    const statuses: number[] = [];
    const versions = new Set<string>();
    const loop = async (user: string) => {
      while (!stop) {
        const r = await recs(user, '?limit=10');
        statuses.push(r.status);
        if (r.body.modelVersion) versions.add(r.body.modelVersion);
        const s = await api(app).get('/items/i3/similar');
        statuses.push(s.status);
      }
    };
    const traffic = Promise.all(['u1', 'u2', 'u3', 'newcomer'].map(loop));
    const next = await train({ model: 'gmf', epochs: 2, factors: 16, lr: 0.01, seed: 77 });
    await until(() => versions.has(next), 15_000, 'new version observed by traffic');
    await api(app).post(`/admin/models/gmf/${version}/activate`).set(AUTH);
    await until(async () => (await recs('u1')).body.modelVersion === version, 10_000, 'rollback observed');
    stop = true;
    await traffic;
    expect(statuses.length).toBeGreaterThan(20);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    expect(versions).toEqual(new Set([version, next]));
  }, 600_000);
});
