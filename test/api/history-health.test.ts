import type { FastifyInstance } from 'fastify';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, startApp, tempDir, testConfig, sqliteDb } from '../helpers/app.js';

let app: FastifyInstance;
let cleanup: () => void;

beforeAll(async () => {
  const t = tempDir();
  cleanup = t.cleanup;
  app = await startApp(testConfig(t.dir));
  const ratings = Array.from({ length: 7 }, (_, k) => ({ userId: 'u', itemId: `r${k}`, rating: 3, timestamp: Date.UTC(2024, 0, 1 + k) }));
  const events = Array.from({ length: 6 }, (_, k) => ({ userId: 'u', itemId: `e${k}`, type: 'click', timestamp: Date.UTC(2024, 0, 1 + k), eventId: `ev${k}` }));
  await api(app).post('/ratings').send({ ratings });
  await api(app).post('/events').send({ events });
  await api(app).post('/ratings').send({ userId: 'other', itemId: 'zzz', rating: 1 });
});

afterAll(async () => {
  await app.close();
  cleanup();
});

describe('GET /users/:id/history', () => {
  it('pages through ratings and events newest first without gaps or repeats', async () => {
    const seen: Array<{ kind: string; itemId: string; timestamp: string }> = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: request.Response = await api(app)
        .get('/users/u/history')
        .query({ limit: 4, ...(cursor ? { cursor } : {}) });
      expect(res.status).toBe(200);
      seen.push(...res.body.items);
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(4);
    expect(seen).toHaveLength(13);
    expect(new Set(seen.map((e) => `${e.kind}:${e.itemId}`)).size).toBe(13);
    const times = seen.map((e) => Date.parse(e.timestamp));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    expect(seen[0]).toMatchObject({ kind: 'rating', itemId: 'r6', timestamp: '2024-01-07T00:00:00.000Z' });
    expect(seen.find((e) => e.kind === 'event')).toMatchObject({ itemId: 'e5', type: 'click', eventId: 'ev5', value: 1 });
  });

  it('answers 404 for an unknown user and 400 for bad paging input', async () => {
    expect((await api(app).get('/users/nobody/history')).status).toBe(404);
    const bad = await api(app).get('/users/u/history?limit=501');
    expect(bad.status).toBe(400);
    expect(bad.body.details[0].path).toBe('query.limit');
    const cursor = await api(app).get('/users/u/history?cursor=garbage');
    expect(cursor.status).toBe(400);
    expect(cursor.body.details[0].path).toBe('query.cursor');
    const unknown = await api(app).get('/users/u/history?page=2');
    expect(unknown.status).toBe(400);
    expect(unknown.body.details[0].path).toBe('query.page');
  });

  it('returns ids verbatim, including ones that look like SQL or paths', async () => {
    const weird = "x'; DROP TABLE ratings;--/../é";
    await api(app).post('/ratings').send({ userId: weird, itemId: '../../etc/passwd', rating: 2 });
    const res = await api(app).get(`/users/${encodeURIComponent(weird)}/history`);
    expect(res.status).toBe(200);
    expect(res.body.userId).toBe(weird);
    expect(res.body.items[0].itemId).toBe('../../etc/passwd');
  });
});

describe('health and routing', () => {
  it('reports live and ready', async () => {
    expect((await api(app).get('/healthz')).body).toEqual({ status: 'ok' });
    expect((await api(app).get('/readyz')).body).toEqual({ status: 'ready', problems: [] });
  });

  it('reports unready, with the reason, when the applied migrations do not match the code', async () => {
    const db = sqliteDb(app);
    const last = db.prepare('SELECT * FROM schema_migrations ORDER BY version DESC LIMIT 1').get() as Record<string, unknown>;
    db.prepare('DELETE FROM schema_migrations WHERE version = ?').run(last.version);
    try {
      const res = await api(app).get('/readyz');
      expect(res.status).toBe(503);
      expect(res.body.status).toBe('unready');
      expect(res.body.problems[0]).toMatch(/^migrations applied \d+\/\d+$/);
    } finally {
      db.prepare('INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (@version, @name, @checksum, @applied_at)').run(last);
    }
    expect((await api(app).get('/readyz')).status).toBe(200);
  });

  it('answers unknown routes with JSON 404 and wrong methods with 405 and Allow', async () => {
    const nf = await api(app).get('/nothing/here');
    expect(nf.status).toBe(404);
    expect(nf.body.code).toBe('route_not_found');
    const na = await api(app).delete('/ratings');
    expect(na.status).toBe(405);
    expect(na.headers.allow).toBe('POST');
    expect(na.body.code).toBe('method_not_allowed');
  });

  it('echoes a client request id and mints one otherwise', async () => {
    const given = await api(app).get('/healthz').set('x-request-id', 'abc-123');
    expect(given.headers['x-request-id']).toBe('abc-123');
    const minted = await api(app).get('/healthz');
    expect(minted.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});
