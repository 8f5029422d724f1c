import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { api, startApp, tempDir, testConfig, sqliteDb } from '../helpers/app.js';

let app: FastifyInstance;
let cleanup: () => void;
let dir: string;

beforeEach(async () => {
  ({ dir, cleanup } = tempDir());
  app = await startApp(testConfig(dir));
});

afterEach(async () => {
  await app.close();
  cleanup();
});

const count = (table: string): number => sqliteDb(app).prepare(`SELECT COUNT(*) FROM ${table}`).pluck().get() as number;

describe('POST /ratings', () => {
  it('stores a single rating and reports it inserted', async () => {
    const res = await api(app).post('/ratings').send({ userId: 'u1', itemId: 'i1', rating: 4.5 });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ inserted: 1, updated: 0, ignored: 0 });
    const row = sqliteDb(app)
      .prepare('SELECT u.external_id AS user, i.external_id AS item, r.value FROM ratings r JOIN users u ON u.id = r.user_id JOIN items i ON i.id = r.item_id')
      .get();
    expect(row).toEqual({ user: 'u1', item: 'i1', value: 4.5 });
  });

  it('stores a batch in one go and accepts numeric ids as their decimal string', async () => {
    const ratings = Array.from({ length: 100 }, (_, k) => ({ userId: k % 10, itemId: `item-${k}`, rating: 1 + (k % 5) }));
    const res = await api(app).post('/ratings').send({ ratings });
    expect(res.body).toEqual({ inserted: 100, updated: 0, ignored: 0 });
    expect(count('ratings')).toBe(100);
    expect(count('users')).toBe(10);
    expect(sqliteDb(app).prepare("SELECT COUNT(*) FROM users WHERE external_id = '7'").pluck().get()).toBe(1);
  });

  it('keeps the rating with the latest timestamp for a pair', async () => {
    const post = (rating: number, timestamp: string | number) =>
      api(app).post('/ratings').send({ userId: 'u', itemId: 'i', rating, timestamp });
    expect((await post(3, '2024-01-02T00:00:00Z')).body).toEqual({ inserted: 1, updated: 0, ignored: 0 });
    expect((await post(1, '2024-01-01T00:00:00Z')).body).toEqual({ inserted: 0, updated: 0, ignored: 1 });
    expect((await post(5, Date.UTC(2024, 0, 3))).body).toEqual({ inserted: 0, updated: 1, ignored: 0 });
    const row = sqliteDb(app).prepare('SELECT value, ts FROM ratings').get();
    expect(row).toEqual({ value: 5, ts: Date.UTC(2024, 0, 3) });
  });

  const badSingles: Array<[string, unknown, string]> = [
    ['missing userId', { itemId: 'i', rating: 3 }, 'body.userId'],
    ['missing rating', { userId: 'u', itemId: 'i' }, 'body.rating'],
    ['rating as string', { userId: 'u', itemId: 'i', rating: '3' }, 'body.rating'],
    ['rating above range', { userId: 'u', itemId: 'i', rating: 5.5 }, 'body.rating'],
    ['rating below range', { userId: 'u', itemId: 'i', rating: 0 }, 'body.rating'],
    ['empty userId', { userId: '', itemId: 'i', rating: 3 }, 'body.userId'],
    ['object itemId', { userId: 'u', itemId: { a: 1 }, rating: 3 }, 'body.itemId'],
    ['negative numeric id', { userId: -1, itemId: 'i', rating: 3 }, 'body.userId'],
    ['control char in id', { userId: 'a\u0000b', itemId: 'i', rating: 3 }, 'body.userId'],
    ['overlong id', { userId: 'x'.repeat(257), itemId: 'i', rating: 3 }, 'body.userId'],
    ['unknown field', { userId: 'u', itemId: 'i', rating: 3, stars: 4 }, 'body.stars'],
    ['timestamp not a date', { userId: 'u', itemId: 'i', rating: 3, timestamp: 'yesterday' }, 'body.timestamp'],
    ['timestamp far future', { userId: 'u', itemId: 'i', rating: 3, timestamp: Date.now() + 7 * 86400e3 }, 'body.timestamp'],
    ['fractional epoch', { userId: 'u', itemId: 'i', rating: 3, timestamp: 1.5 }, 'body.timestamp'],
  ];
  it.each(badSingles)('rejects %s with a 400 naming the field', async (_name, body, field) => {
    const res = await api(app).post('/ratings').send(body as object);
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('validation_failed');
    expect(res.body.details.map((d: { path: string }) => d.path)).toContain(field);
    expect(count('ratings')).toBe(0);
    expect(count('users')).toBe(0);
  });

  it('rejects non-finite numbers (JSON overflow to Infinity, NaN literal)', async () => {
    const inf = await api(app)
      .post('/ratings')
      .set('content-type', 'application/json')
      .send('{"userId":"u","itemId":"i","rating":1e999}');
    expect(inf.status).toBe(400);
    expect(inf.body.details[0].path).toBe('body.rating');
    const nan = await api(app)
      .post('/ratings')
      .set('content-type', 'application/json')
      .send('{"userId":"u","itemId":"i","rating":NaN}');
    expect(nan.status).toBe(400);
    expect(nan.body.code).toBe('malformed_json');
    expect(count('ratings')).toBe(0);
  });

  it('stores nothing from a batch with one bad row, and names that row', async () => {
    await api(app).post('/ratings').send({ userId: 'keep', itemId: 'me', rating: 2 });
    const ratings = Array.from({ length: 50 }, (_, k) => ({ userId: `u${k}`, itemId: `i${k}`, rating: 3 }));
    ratings[37] = { userId: 'u37', itemId: 'i37', rating: 11 };
    const res = await api(app).post('/ratings').send({ ratings });
    expect(res.status).toBe(400);
    expect(res.body.details).toEqual([{ path: 'body.ratings.37.rating', message: 'must be between 0.5 and 5' }]);
    expect(count('ratings')).toBe(1);
    expect(count('users')).toBe(1);
  });

  it('validates a large batch (validated in time slices) by the same rules, naming the same fields', async () => {
    const ratings = Array.from({ length: 5000 }, (_, k) => ({ userId: `big${k % 70}`, itemId: k, rating: 1 + (k % 5), timestamp: '2026-02-01T00:00:00Z' }));
    const bad = await api(app).post('/ratings').send({ ratings: ratings.map((r, k) => (k === 4321 ? { ...r, rating: 9 } : k === 4400 ? { ...r, extra: 1 } : r)) });
    expect(bad.status).toBe(400);
    expect(bad.body.details).toEqual([
      { path: 'body.ratings.4321.rating', message: 'must be between 0.5 and 5' },
      { path: 'body.ratings.4400.extra', message: 'unknown field' },
    ]);
    expect((await api(app).post('/ratings').send({ ratings, more: true })).body.details).toEqual([{ path: 'body.more', message: 'unknown field' }]);
    expect(count('ratings')).toBe(0);
    // Accepted, with the schema's conversions applied (numeric ids as strings, ISO times as epoch ms).
    expect((await api(app).post('/ratings').send({ ratings })).body).toEqual({ inserted: 5000, updated: 0, ignored: 0 });
    expect(sqliteDb(app).prepare("SELECT COUNT(*) FROM ratings WHERE ts = ?").pluck().get(Date.parse('2026-02-01T00:00:00Z'))).toBe(5000);
    expect(sqliteDb(app).prepare("SELECT COUNT(*) FROM items WHERE external_id = '4999'").pluck().get()).toBe(1);
  });

  it('rejects a batch over the limit and an empty batch', async () => {
    const ratings = Array.from({ length: 10_001 }, (_, k) => ({ userId: 'u', itemId: `i${k}`, rating: 3 }));
    const big = await api(app).post('/ratings').send({ ratings });
    expect(big.status).toBe(400);
    expect(big.body.details[0]).toEqual({ path: 'body.ratings', message: 'must contain at most 10000 ratings' });
    const empty = await api(app).post('/ratings').send({ ratings: [] });
    expect(empty.status).toBe(400);
    expect(empty.body.details[0].path).toBe('body.ratings');
    expect(count('ratings')).toBe(0);
  });

  it('accepts exactly the batch limit', async () => {
    const ratings = Array.from({ length: 10_000 }, (_, k) => ({ userId: `u${k % 100}`, itemId: `i${k}`, rating: 3 }));
    const res = await api(app).post('/ratings').send({ ratings });
    expect(res.body).toEqual({ inserted: 10_000, updated: 0, ignored: 0 });
  });

  it('answers malformed JSON with 400 and a 20 MB body with 413', async () => {
    const malformed = await api(app).post('/ratings').set('content-type', 'application/json').send('{"userId": "u",');
    expect(malformed.status).toBe(400);
    expect(malformed.body).toMatchObject({ code: 'malformed_json', details: [{ path: 'body' }] });
    const huge = await api(app)
      .post('/ratings')
      .set('content-type', 'application/json')
      .send(`{"userId":"${'x'.repeat(20 * 1024 * 1024)}","itemId":"i","rating":3}`);
    expect(huge.status).toBe(413);
    expect(huge.body).toMatchObject({ code: 'payload_too_large', details: [{ path: 'body' }] });
    expect(count('ratings')).toBe(0);
  });

  it('refuses bodies that are not JSON', async () => {
    const res = await api(app).post('/ratings').set('content-type', 'text/plain').send('u,i,3');
    expect(res.status).toBe(415);
    expect(res.body.details[0].path).toBe('headers.content-type');
  });
});

describe('POST /events', () => {
  it('stores events, defaulting value to 1', async () => {
    const res = await api(app).post('/events').send({ userId: 'u', itemId: 'i', type: 'purchase' });
    expect(res.body).toEqual({ inserted: 1, updated: 0, ignored: 0 });
    expect(sqliteDb(app).prepare('SELECT type, value FROM events').get()).toEqual({ type: 'purchase', value: 1 });
  });

  it('stores a replayed batch with eventIds once', async () => {
    const events = Array.from({ length: 20 }, (_, k) => ({ userId: `u${k % 3}`, itemId: `i${k}`, type: 'click', eventId: `e-${k}` }));
    const first = await api(app).post('/events').send({ events });
    expect(first.body).toEqual({ inserted: 20, updated: 0, ignored: 0 });
    const replay = await api(app).post('/events').send({ events });
    expect(replay.body).toEqual({ inserted: 0, updated: 0, ignored: 20 });
    expect(count('events')).toBe(20);
  });

  it('ignores a repeated eventId inside one batch; events without ids always count', async () => {
    const events = [
      { userId: 'u', itemId: 'i', type: 'view', eventId: 'same' },
      { userId: 'u', itemId: 'i', type: 'view', eventId: 'same' },
      { userId: 'u', itemId: 'i', type: 'view' },
      { userId: 'u', itemId: 'i', type: 'view' },
    ];
    const res = await api(app).post('/events').send({ events });
    expect(res.body).toEqual({ inserted: 3, updated: 0, ignored: 1 });
  });

  it.each([
    ['unknown type', { userId: 'u', itemId: 'i', type: 'hover' }, 'body.type'],
    ['missing type', { userId: 'u', itemId: 'i' }, 'body.type'],
    ['negative value', { userId: 'u', itemId: 'i', type: 'click', value: -1 }, 'body.value'],
    ['empty eventId', { userId: 'u', itemId: 'i', type: 'click', eventId: '' }, 'body.eventId'],
    ['bad row in batch', { events: [{ userId: 'u', itemId: 'i', type: 'click' }, { userId: 'u', itemId: 'i', type: 'nope' }] }, 'body.events.1.type'],
  ])('rejects %s naming the field and storing nothing', async (_name, body, field) => {
    const res = await api(app).post('/events').send(body);
    expect(res.status).toBe(400);
    expect(res.body.details.map((d: { path: string }) => d.path)).toContain(field);
    expect(count('events')).toBe(0);
  });
});

describe('concurrent ingest', () => {
  it('loses nothing across 50 parallel batch requests', async () => {
    await app.listen({ port: 0, host: '127.0.0.1' });
    const requests = Array.from({ length: 50 }, (_, b) => {
      const ratings = Array.from({ length: 40 }, (_, k) => ({ userId: `u${k % 7}`, itemId: `b${b}-i${k}`, rating: 3 }));
      const events = Array.from({ length: 20 }, (_, k) => ({ userId: `u${k}`, itemId: `shared-${k % 5}`, type: 'view', eventId: `b${b}-e${k}` }));
      return Promise.all([
        api(app).post('/ratings').send({ ratings }),
        api(app).post('/events').send({ events }),
      ]);
    });
    const results = (await Promise.all(requests)).flat();
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(count('ratings')).toBe(2000);
    expect(count('events')).toBe(1000);
    expect(count('users')).toBe(20);
    expect(count('items')).toBe(2000 + 5);
  });
});

describe('id maps', () => {
  it('are stable across restarts of the service on the same file', async () => {
    await api(app).post('/ratings').send({ ratings: [{ userId: 'alice', itemId: 'x', rating: 3 }, { userId: 'bob', itemId: 'y', rating: 4 }] });
    const before = sqliteDb(app).prepare('SELECT id, external_id FROM users ORDER BY id').all();
    await app.close();
    app = await startApp(testConfig(dir));
    await api(app).post('/ratings').send({ userId: 'carol', itemId: 'x', rating: 5 });
    const after = sqliteDb(app).prepare('SELECT id, external_id FROM users ORDER BY id').all();
    expect(after.slice(0, 2)).toEqual(before);
    expect(after).toHaveLength(3);
  });
});

describe('event types of one\'s own (EVENT_TYPES)', () => {
  it('accepts exactly the declared types, and training reads them with their weights', async () => {
    const { dir, cleanup } = tempDir();
    const custom = await startApp(testConfig(dir, { EVENT_TYPES: 'share=2,meh=negative,opened=read' }));
    try {
      await api(custom).post('/events').send({ events: [{ userId: 'u', itemId: 'a', type: 'share', value: 3 }, { userId: 'u', itemId: 'b', type: 'meh' }, { userId: 'u', itemId: 'c', type: 'opened' }] }).expect(200);
      const refused = await api(custom).post('/events').send({ userId: 'u', itemId: 'a', type: 'click' });
      expect(refused.status).toBe(400);
      expect(refused.body.details[0]).toMatchObject({ path: 'body.type', message: 'must be one of share, meh, opened' });
      const { rows } = await custom.services.database.training.read(custom.services.config.eventWeights);
      // share: weight 2 × value 3; meh: a dislike (negative, dropped later from the positives); opened: not a signal.
      expect(rows.map((r) => [r.item, r.weight])).toEqual([['a', 6], ['b', -1]]);
      const history = await api(custom).get('/users/u/history');
      expect(history.body.items.map((i: { itemId: string }) => i.itemId).sort()).toEqual(['a', 'b', 'c']);
    } finally {
      await custom.close();
      cleanup();
    }
  });
});
