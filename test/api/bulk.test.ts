import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { api, startApp, tempDir, testConfig, sqliteDb } from '../helpers/app.js';
import { ingestSynthetic } from '../helpers/training.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
async function fresh(): Promise<FastifyInstance> {
  const { dir, cleanup } = tempDir();
  cleanups.push(cleanup);
  const a = await startApp(testConfig(dir));
  cleanups.push(() => a.close());
  return a;
}
const KINDS = ['users', 'items', 'ratings', 'events'] as const;
const exported = async (a: FastifyInstance, kind: string, after = 0): Promise<string> => {
  const res = await api(a).get(`/admin/export/${kind}?after=${after}`).buffer(true).parse((r, cb) => {
    let text = '';
    r.on('data', (d: Buffer) => (text += d.toString()));
    r.on('end', () => cb(null, text));
  });
  expect(res.status).toBe(200);
  expect(res.headers['content-type']).toMatch(/application\/x-ndjson/);
  return res.body as string;
};
const lines = (ndjson: string) => ndjson.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
const withoutBookkeeping = (rows: Record<string, unknown>[]) => rows.map(({ cursor: _c, createdAt: _t, ...rest }) => rest);
const importNdjson = (a: FastifyInstance, kind: string, body: string) => api(a).post(`/admin/import/${kind}`).set('content-type', 'application/x-ndjson').send(body);

describe('bulk export and import (NDJSON)', () => {
  it('round-trips every user, item, rating and event into a fresh database', async () => {
    const source = await fresh();
    await ingestSynthetic(source, 60, 80);
    await api(source).post('/events').send({ events: Array.from({ length: 2500 }, (_, k) => ({ userId: `u${k % 60}`, itemId: `i${k % 80}`, type: k % 7 ? 'click' : 'purchase', eventId: `e${k}`, value: 1 + (k % 3) })) }).expect(200);
    await api(source).put('/items').send({ items: [{ itemId: 'i1', categories: ['b', 'a'], labels: { lang: 'fr' } }, { itemId: 'i2', hidden: true, availableFrom: 1_700_000_000_000 }] }).expect(200);
    await api(source).put('/users/u3').send({ labels: { plan: 'pro' } }).expect(200);

    const target = await fresh();
    for (const kind of KINDS) {
      const file = await exported(source, kind);
      const res = await importNdjson(target, kind, file);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body.written).toBe(lines(file).length);
    }
    for (const kind of KINDS) expect(withoutBookkeeping(lines(await exported(target, kind)))).toEqual(withoutBookkeeping(lines(await exported(source, kind))));
    // Importing the same files again changes nothing: later timestamps win, event ids are unique.
    for (const kind of ['ratings', 'events'] as const) await importNdjson(target, kind, await exported(source, kind)).expect(200);
    expect(lines(await exported(target, 'events'))).toHaveLength(2500);
  }, 600_000);

  it('resumes an export after a cursor, and stops an import at the first bad line, naming it', async () => {
    const a = await fresh();
    await ingestSynthetic(a, 100, 200);
    const all = lines(await exported(a, 'ratings'));
    expect(all.length).toBeGreaterThan(1500);
    const rest = lines(await exported(a, 'ratings', all[9].cursor as number));
    expect(rest).toEqual(all.slice(10));

    const target = await fresh();
    const good = all.slice(0, 1500).map((r) => JSON.stringify(r));
    const body = [...good.slice(0, 1200), '{"userId":"x","itemId":"y","rating":99}', ...good.slice(1200)].join('\n');
    const res = await importNdjson(target, 'ratings', body);
    expect(res.status).toBe(400);
    expect(res.body.details[0]).toMatchObject({ path: 'line 1201' });
    expect(res.body.details[0].message).toMatch(/^rating: must be between/);
    // The first transaction (lines 1–1000) stays; the failing one wrote nothing.
    expect(res.body.error).toMatch(/the 1000 records before it were written/);
    expect(sqliteDb(target).prepare('SELECT COUNT(*) FROM ratings').pluck().get()).toBe(1000);
    expect((await importNdjson(target, 'ratings', 'not json')).body.details[0]).toMatchObject({ path: 'line 1', message: 'not a JSON object' });
    const users = await importNdjson(target, 'users', '{"userId":"ok"}\n{"userId":"bad","labels":{"k":7}}');
    expect(users.status).toBe(400);
    expect(users.body.details[0]).toMatchObject({ path: 'line 2' });
    expect(users.body.details[0].message).toMatch(/^labels\.k: /);
    expect(sqliteDb(target).prepare("SELECT COUNT(*) FROM users WHERE external_id = 'ok'").pluck().get()).toBe(0);
    expect((await api(target).post('/admin/import/ratings').send({ a: 1 })).status).toBe(415);
  }, 600_000);

  it('deletes a single rating or event', async () => {
    const a = await fresh();
    await api(a).post('/ratings').send({ ratings: [{ userId: 'u', itemId: 'a', rating: 4 }, { userId: 'u', itemId: 'b', rating: 5 }] }).expect(200);
    await api(a).post('/events').send({ userId: 'u', itemId: 'c', type: 'click', eventId: 'ev-1' }).expect(200);
    await api(a).delete('/users/u/ratings/a').expect(204);
    await api(a).delete('/users/u/ratings/a').expect(404);
    await api(a).delete('/events/ev-1').expect(204);
    await api(a).delete('/events/ev-1').expect(404);
    const history = (await api(a).get('/users/u/history')).body.items.map((i: { itemId: string }) => i.itemId);
    expect(history).toEqual(['b']);
  });


  it('lists items and users page by page with a cursor', async () => {
    const a = await fresh();
    await ingestSynthetic(a, 30, 40);
    const seen: string[] = [];
    let after = 0;
    for (let pages = 0; pages < 10; pages++) {
      const res = await api(a).get(`/items?limit=15&after=${after}`);
      expect(res.status).toBe(200);
      seen.push(...res.body.items.map((i: { itemId: string }) => i.itemId));
      if (res.body.nextCursor === null) break;
      after = res.body.nextCursor;
    }
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.length).toBe(sqliteDb(a).prepare('SELECT COUNT(*) FROM items').pluck().get());
    const users = await api(a).get('/users?limit=5');
    expect(users.body.users).toHaveLength(5);
    expect(users.body.users[0]).toMatchObject({ userId: expect.any(String), labels: {}, createdAt: expect.stringMatching(/^\d{4}-/) });
    expect((await api(a).get('/items?limit=5000')).body.details[0].path).toBe('query.limit');
  });
});
