import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, defaultKey, startApp, tempDir, testConfig, sqliteDb } from '../helpers/app.js';
import { AUTH, ingestSynthetic, until, waitForJob } from '../helpers/training.js';

let app: FastifyInstance;
let cleanup: () => void;
const DAY = 86_400_000;

beforeAll(async () => {
  let dir: string;
  ({ dir, cleanup } = tempDir());
  // Categories are filters here, not content features: similar items stay the model's own cosine.
  fs.writeFileSync(path.join(dir, 'recflow.yaml'), 'features:\n  items: { categories: false }\n');
  app = await startApp(testConfig(dir, { MODEL_POLL_MS: '100', RECFLOW_CONFIG: path.join(dir, 'recflow.yaml') }));
  await ingestSynthetic(app, 100, 120, 8);
  const res = await api(app).post('/admin/retrain').set(AUTH).send({ model: 'gmf', epochs: 3, factors: 16, lr: 0.01 });
  const job = await waitForJob(app, res.body.jobId);
  await until(async () => (await api(app).get('/users/u1/recommendations')).body.modelVersion === job.result!.version, 10_000, 'model served');
}, 600_000);

afterAll(async () => {
  await app.close();
  cleanup();
});

describe('catalogue routes', () => {
  it('creates, reads, replaces and soft-deletes items; items from ratings exist visible with no categories', async () => {
    const implicit = await api(app).get('/items/i1');
    expect(implicit.status).toBe(200);
    expect(implicit.body).toMatchObject({ itemId: 'i1', categories: [], hidden: false, availableFrom: null, labels: {} });

    const put = await api(app)
      .put('/items/new-item')
      .send({ categories: ['books', 'sale'], labels: { brand: 'acme' }, availableFrom: '2020-01-01T00:00:00Z' });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ itemId: 'new-item', categories: ['books', 'sale'], labels: { brand: 'acme' }, availableFrom: '2020-01-01T00:00:00.000Z' });
    const replaced = await api(app).put('/items/new-item').send({ categories: ['toys'] });
    expect(replaced.body).toMatchObject({ categories: ['toys'], labels: {}, availableFrom: null });

    const del = await api(app).delete('/items/new-item');
    expect(del.body.hidden).toBe(true);
    expect((await api(app).delete('/items/missing')).status).toBe(404);
    expect((await api(app).get('/items/missing')).status).toBe(404);

    const batch = await api(app).put('/items').send({ items: [{ itemId: 'b1', categories: ['x'] }, { itemId: 'i2' }] });
    expect(batch.body).toEqual({ inserted: 1, updated: 1, ignored: 0 });
    const user = await api(app).put('/users/u1').send({ labels: { tier: 'gold' } });
    expect(user.body).toMatchObject({ userId: 'u1', labels: { tier: 'gold' } });
    expect((await api(app).get('/users/u1')).body.labels).toEqual({ tier: 'gold' });
  });

  it('rejects bad catalogue input naming the field and stores nothing from the request', async () => {
    const before = (await api(app).get('/items/i3')).body;
    const cases: [Record<string, unknown>, string][] = [
      [{ categories: [''] }, 'body.categories.0'],
      [{ hidden: 'yes' }, 'body.hidden'],
      [{ availableFrom: '2030-01-01T00:00:00Z', availableUntil: '2020-01-01T00:00:00Z' }, 'body.availableUntil'],
      [{ labels: { k: 5 } }, 'body.labels.k'],
      [{ colour: 'red' }, 'body.colour'],
    ];
    for (const [body, path] of cases) {
      const res = await api(app).put('/items/i3').send(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.details[0].path, JSON.stringify(body)).toBe(path);
    }
    const batch = await api(app).put('/items').send({ items: [{ itemId: 'i3', categories: ['ok'] }, { itemId: 'i4', hidden: 3 }] });
    expect(batch.status).toBe(400);
    expect(batch.body.details[0].path).toBe('body.items.1.hidden');
    expect((await api(app).get('/items/i3')).body).toEqual(before);
  });
});

describe('recommendation controls', () => {
  it('rejects bad filters: empty category, 501 excluded ids, unknown parameters, include_hidden without an admin key', async () => {
    const tooMany = Array.from({ length: 501 }, (_, k) => `x${k}`).join(',');
    for (const [query, path, status] of [
      ['?category=', 'query.category.0', 400],
      [`?exclude=${tooMany}`, 'query.exclude', 400],
      ['?categories=a', 'query.categories', 400],
      ['?include_hidden=true', 'query.include_hidden', 403],
    ] as const) {
      const res = await api(app, defaultKey(app)).get(`/users/u1/recommendations${query}`);
      expect(res.status, query).toBe(status);
      expect(res.body.details[0].path, query).toBe(path);
    }
    const ok = await api(app).get('/users/u1/recommendations?include_hidden=true').set(AUTH);
    expect(ok.status).toBe(200);
  });

  it('never returns hidden, unavailable, excluded, disliked or seen items, and equals a brute-force filtered top-N', async () => {
    const index = app.services.store.current()!;
    const items = index.itemIds;
    const seenOf = (user: string) =>
      new Set(
        sqliteDb(app)
          .prepare('SELECT i.external_id FROM ratings r JOIN users u ON u.id = r.user_id JOIN items i ON i.id = r.item_id WHERE u.external_id = ? UNION SELECT i.external_id FROM events e JOIN users u ON u.id = e.user_id JOIN items i ON i.id = e.item_id WHERE u.external_id = ?')
          .pluck()
          .all(user, user) as string[],
      );
    const now = Date.now();
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ cats: fc.subarray(['c1', 'c2', 'c3']), hidden: fc.integer({ min: 0, max: 6 }).map((x) => x === 0), window: fc.constantFrom('none', 'past', 'future', 'open') }), { minLength: items.length, maxLength: items.length }),
        fc.subarray(['c1', 'c2', 'c3']),
        fc.array(fc.integer({ min: 0, max: items.length - 1 }), { maxLength: 30 }),
        fc.integer({ min: 1, max: 100 }),
        fc.integer({ min: 1, max: 100 }),
        fc.boolean(),
        async (meta, categories, excludedIdx, userNo, limit, similar) => {
          const windows = { none: [null, null], past: [null, now - DAY], future: [now + DAY, null], open: [now - DAY, now + DAY] } as const;
          await api(app)
            .put('/items')
            .send({ items: meta.map((m, k) => ({ itemId: items[k], categories: m.cats, hidden: m.hidden, availableFrom: windows[m.window][0], availableUntil: windows[m.window][1] })) })
            .expect(200);
          const excluded = [...new Set(excludedIdx.map((k) => items[k]))];
          const user = `u${userNo}`;
          const q = new URLSearchParams({ limit: String(limit) });
          for (const c of categories) q.append('category', c);
          if (excluded.length) q.set('exclude', excluded.join(','));
          const anchor = items[userNo % items.length];
          const res = similar ? await api(app).get(`/items/${anchor}/similar?${q}`) : await api(app).get(`/users/${user}/recommendations?${q}`);
          expect(res.status).toBe(200);
          const eligible = (k: number) => {
            const m = meta[k];
            const [from, until] = windows[m.window];
            if (m.hidden || (from !== null && now < from) || (until !== null && now >= until)) return false;
            if (categories.length && !m.cats.some((c) => categories.includes(c))) return false;
            return !excluded.includes(items[k]);
          };
          const seen = similar ? new Set([anchor]) : seenOf(user);
          const i = index.itemIndex.get(anchor)!;
          const scores = similar ? cosines(index.itemUnit!, index.dims, i, items.length) : Array.from(index.scoreUser(index.userIndex.get(user)!));
          const expected = items
            .map((id, k) => ({ id, k, s: Math.fround(scores[k]) }))
            .filter((x) => eligible(x.k) && !seen.has(x.id))
            .sort((a, b) => b.s - a.s || a.k - b.k)
            .slice(0, limit)
            .map((x) => x.id);
          expect(res.body.source).toBe('model');
          expect(res.body.items.map((x: { itemId: string }) => x.itemId)).toEqual(expected);
        },
      ),
      { numRuns: 40 },
    );
  }, 600_000);
});

function cosines(unit: Float32Array, d: number, i: number, n: number): number[] {
  return Array.from({ length: n }, (_, j) => {
    let s = 0;
    for (let f = 0; f < d; f++) s += unit[i * d + f] * unit[j * d + f];
    return s;
  });
}
