import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, startApp, tempDir, testConfig, sqliteDb } from '../helpers/app.js';

let app: FastifyInstance;
let cleanup: () => void;
beforeAll(async () => {
  let dir: string;
  ({ dir, cleanup } = tempDir());
  app = await startApp(testConfig(dir));
});
afterAll(async () => {
  await app.close();
  cleanup();
});

const path = (id: string) => encodeURIComponent(id);
const count = (sql: string) => sqliteDb(app).prepare(sql).pluck().get() as number;

describe('one id rule for bodies and paths', () => {
  // 256 UTF-16 code units each: ASCII, 3-byte UTF-8 (9 characters once percent-encoded) and surrogate pairs.
  const longest = ['u'.repeat(256), '€'.repeat(256), '🙂'.repeat(128)];

  it.each(longest.map((id) => [id.slice(0, 2), id] as const))('an id of the maximum length (%s…) round-trips through ingest, history, catalogue and erasure', async (_label, id) => {
    expect(id.length).toBe(256);
    await api(app).post('/ratings').send({ userId: id, itemId: id, rating: 4 }).expect(200);
    const history = await api(app).get(`/users/${path(id)}/history`);
    expect(history.status).toBe(200);
    expect(history.body.userId).toBe(id);
    expect(history.body.items[0].itemId).toBe(id);
    expect((await api(app).put(`/items/${path(id)}`).send({ categories: ['x'] })).body.itemId).toBe(id);
    expect((await api(app).get(`/items/${path(id)}`)).body.itemId).toBe(id);
    expect((await api(app).get(`/users/${path(id)}/recommendations`)).status).toBe(200);
    const erased = await api(app).delete(`/users/${path(id)}`);
    expect(erased.status).toBe(200);
    expect(erased.body.erased.ratings).toBe(1);
    expect((await api(app).get(`/users/${path(id)}/history`)).status).toBe(404);
  });

  it('refuses an id one unit too long with 400 naming the field, in a body and in a path', async () => {
    const long = 'x'.repeat(257);
    const body = await api(app).post('/ratings').send({ userId: long, itemId: 'i', rating: 4 });
    expect(body.status).toBe(400);
    expect(body.body.details[0].path).toBe('body.userId');
    for (const url of [`/users/${long}/history`, `/items/${long}/similar`, `/users/${long}`]) {
      const res = await api(app).get(url);
      expect(res.status, url).toBe(400);
      expect(res.body.details[0].path, url).toBe('params.id');
    }
  });

  it('refuses lone surrogates with 400 naming the field and stores nothing of the batch', async () => {
    const before = count('SELECT COUNT(*) FROM ratings');
    for (const [raw, field] of [
      ['{"userId":"\\ud800","itemId":"i","rating":4}', 'body.userId'],
      ['{"userId":"a","itemId":"x\\udc00y","rating":4}', 'body.itemId'],
      ['{"ratings":[{"userId":"ok","itemId":"i","rating":4},{"userId":"\\udfff\\ud800","itemId":"i","rating":4}]}', 'body.ratings.1.userId'],
    ] as const) {
      const res = await api(app).post('/ratings').set('content-type', 'application/json').send(raw);
      expect(res.status, raw).toBe(400);
      expect(res.body.details[0].path, raw).toBe(field);
    }
    const events = await api(app).post('/events').set('content-type', 'application/json').send('{"userId":"\\ud83d","itemId":"i","type":"click"}');
    expect(events.status).toBe(400);
    expect(events.body.details[0].path).toBe('body.userId');
    const items = await api(app).put('/items').set('content-type', 'application/json').send('{"items":[{"itemId":"\\ud83d"}]}');
    expect(items.status).toBe(400);
    expect(items.body.details[0].path).toBe('body.items.0.itemId');
    expect(count('SELECT COUNT(*) FROM ratings')).toBe(before);
    // A paired surrogate is an ordinary character.
    await api(app).post('/ratings').set('content-type', 'application/json').send('{"userId":"\\ud83d\\ude42","itemId":"i","rating":4}').expect(200);
  });

  it('refuses a path whose percent-encoding is not UTF-8 (a lone surrogate) with 400', async () => {
    for (const url of ['/users/%ED%A0%80/history', '/items/%ED%B0%80', '/users/%FF']) {
      const res = await api(app).get(url);
      expect(res.status, url).toBe(400);
    }
  });
});
