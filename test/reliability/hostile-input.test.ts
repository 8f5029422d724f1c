import { connect } from 'node:net';
import { Writable } from 'node:stream';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { api, startApp, tempDir, testConfig, sqliteDb } from '../helpers/app.js';
import { AUTH } from '../helpers/training.js';

let app: FastifyInstance;
let cleanup: () => void;

beforeAll(async () => {
  let dir: string;
  ({ dir, cleanup } = tempDir());
  app = await startApp(testConfig(dir, { MAX_BATCH_SIZE: '50', BODY_LIMIT_BYTES: '4096' }));
  await api(app).post('/ratings').send({ ratings: [{ userId: 'seed', itemId: 'x', rating: 3 }, { userId: 'seed2', itemId: 'y', rating: 4 }] });
});
afterAll(async () => {
  await app.close();
  cleanup();
});

const TABLES = ['users', 'items', 'ratings', 'events', 'jobs', 'models', 'item_categories'];
const snapshot = () => TABLES.map((t) => sqliteDb(app).prepare(`SELECT COUNT(*) FROM ${t}`).pluck().get() as number);
const catalogueState = () => JSON.stringify(sqliteDb(app).prepare('SELECT external_id, hidden, available_from, available_until, labels FROM items ORDER BY id').all());

// Arbitrary JSON plus values that often break parsers and validators.
const nasty = fc.oneof(
  fc.jsonValue(),
  fc.constantFrom('', ' ', '\u0000', '../../etc/passwd', "'; DROP TABLE ratings; --", '🙂'.repeat(300), '9'.repeat(400), '__proto__', 'constructor'),
  fc.constantFrom(1e308, -1e308, Number.MAX_SAFE_INTEGER + 2, -0, 0.1 + 0.2),
  fc.dictionary(fc.constantFrom('userId', 'itemId', 'rating', 'type', 'value', 'timestamp', 'eventId', 'ratings', 'events', 'items', 'categories', 'hidden', 'labels', 'model', 'epochs', 'hyper', '__proto__'), fc.jsonValue()),
);
const pathSegment = fc.oneof(fc.string({ maxLength: 300 }), fc.constantFrom('..', '../admin', '%2e%2e%2f', '%00', "1' OR '1'='1", '🙂'));
const queryString = fc.dictionary(fc.constantFrom('limit', 'exclude_seen', 'model', 'category', 'exclude', 'include_hidden', 'cursor', 'state', 'x'), fc.oneof(fc.string({ maxLength: 50 }), fc.integer().map(String)));

interface Call {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  url: string;
  body?: unknown;
  auth?: boolean;
}

const qs = (q: Record<string, string>) => new URLSearchParams(q).toString();
const enc = encodeURIComponent;
const calls: fc.Arbitrary<Call> = fc.oneof(
  nasty.map((body) => ({ method: 'POST' as const, url: '/ratings', body })),
  nasty.map((body) => ({ method: 'POST' as const, url: '/events', body })),
  fc.tuple(pathSegment, nasty).map(([id, body]) => ({ method: 'PUT' as const, url: `/items/${enc(id)}`, body })),
  nasty.map((body) => ({ method: 'PUT' as const, url: '/items', body })),
  fc.tuple(pathSegment, nasty).map(([id, body]) => ({ method: 'PUT' as const, url: `/users/${enc(id)}`, body })),
  fc.tuple(pathSegment, queryString).map(([id, q]) => ({ method: 'GET' as const, url: `/users/${enc(id)}/recommendations?${qs(q)}` })),
  fc.tuple(pathSegment, queryString).map(([id, q]) => ({ method: 'GET' as const, url: `/items/${enc(id)}/similar?${qs(q)}` })),
  fc.tuple(pathSegment, queryString).map(([id, q]) => ({ method: 'GET' as const, url: `/users/${enc(id)}/history?${qs(q)}` })),
  pathSegment.map((id) => ({ method: 'DELETE' as const, url: `/items/${enc(id)}/x` })),
  nasty.map((body) => ({ method: 'POST' as const, url: '/admin/retrain', body, auth: true })),
  fc.tuple(pathSegment, queryString).map(([id, q]) => ({ method: 'GET' as const, url: `/admin/jobs/${enc(id)}?${qs(q)}`, auth: true })),
  fc.tuple(pathSegment, pathSegment).map(([m, v]) => ({ method: 'POST' as const, url: `/admin/models/${enc(m)}/${enc(v)}/activate`, auth: true })),
);

describe('fuzzing every route', () => {
  it('never answers 5xx to client input, and a rejected request stores nothing', async () => {
    await fc.assert(
      fc.asyncProperty(calls, async (call) => {
        const before = snapshot();
        const catalogue = catalogueState();
        const res = await app.inject({
          method: call.method,
          url: call.url,
          ...(call.body !== undefined ? { payload: JSON.stringify(call.body), headers: { 'content-type': 'application/json', ...(call.auth ? AUTH : {}) } } : { headers: call.auth ? AUTH : {} }),
        });
        expect(res.statusCode, `${call.method} ${call.url} ${res.body}`).toBeLessThan(500);
        if (res.statusCode >= 400) {
          expect(snapshot(), `${call.method} ${call.url}`).toEqual(before);
          expect(catalogueState()).toBe(catalogue);
          const body = JSON.parse(res.body) as { error: string; details: unknown[] };
          expect(typeof body.error).toBe('string');
          expect(Array.isArray(body.details)).toBe(true);
        }
      }),
      { numRuns: 600 },
    );
    expect((await api(app).get('/healthz')).status).toBe(200);
  }, 600_000);
});

describe('limits', () => {
  it('413 for bodies over the limit, 400 naming the field for oversized batches and ids', async () => {
    const big = await api(app).post('/ratings').send({ ratings: Array.from({ length: 40 }, (_, k) => ({ userId: 'u'.repeat(100), itemId: `i${k}`, rating: 3 })) });
    expect(big.status).toBe(413);
    const batch = await api(app).post('/ratings').send({ ratings: Array.from({ length: 51 }, (_, k) => ({ userId: 'u', itemId: `${k}`, rating: 3 })) });
    expect(batch.status).toBe(400);
    expect(batch.body.details[0].path).toBe('body.ratings');
    const longId = await api(app).post('/ratings').send({ userId: 'u'.repeat(257), itemId: 'x', rating: 3 });
    expect(longId.body.details[0].path).toBe('body.userId');
    const control = await api(app).post('/ratings').send({ userId: 'a\nb', itemId: 'x', rating: 3 });
    expect(control.body.details[0].path).toBe('body.userId');
    const huge = await api(app).post('/ratings').send({ userId: 'a', itemId: 'x', rating: 1e308 });
    expect(huge.body.details[0].path).toBe('body.rating');
    // 2^53 + 1: not a safe integer, so not an id (it would silently round to another user).
    const unsafe = await api(app).post('/ratings').set('content-type', 'application/json').send('{"userId":9007199254740993,"itemId":"x","rating":3}');
    expect(unsafe.status).toBe(400);
  });

  it('times out a request whose body never arrives', async () => {
    const { dir, cleanup: done } = tempDir();
    const slow = await startApp(testConfig(dir, { REQUEST_TIMEOUT_MS: '300' }));
    await slow.listen({ port: 0, host: '127.0.0.1' });
    try {
      const address = slow.server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      const answer = await new Promise<string>((resolve) => {
        const socket = connect(port, '127.0.0.1', () => socket.write('POST /ratings HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer test-admin-token-0123456789\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"userId":'));
        let data = '';
        socket.on('data', (d) => (data += d.toString()));
        socket.on('close', () => resolve(data));
        setTimeout(() => socket.destroy(), 5000);
      });
      expect(answer).toMatch(/^HTTP\/1\.1 408/);
    } finally {
      await slow.close();
      done();
    }
  });
});

describe('ids are data, never interpreted', () => {
  it('stores and returns SQL-looking, path-like and unicode ids verbatim', async () => {
    const ids = ["'; DROP TABLE ratings; --", '../../etc/passwd', '用户 🙂', 'a/b?c=d#e', '%2e%2e', '  spaced  '];
    for (const id of ids) {
      const res = await api(app).post('/ratings').send({ userId: id, itemId: id, rating: 4 });
      expect(res.status, id).toBe(200);
      const history = await api(app).get(`/users/${encodeURIComponent(id)}/history`);
      expect(history.status, id).toBe(200);
      expect(history.body.userId).toBe(id);
      expect(history.body.items[0].itemId).toBe(id);
      const item = await api(app).get(`/items/${encodeURIComponent(id)}`);
      expect(item.body.itemId).toBe(id);
    }
    expect(sqliteDb(app).prepare("SELECT COUNT(*) FROM sqlite_master WHERE name = 'ratings'").pluck().get()).toBe(1);
    const traversal = await api(app).post(`/admin/models/gmf/${encodeURIComponent('../../etc')}/activate`).set(AUTH);
    expect(traversal.status).toBe(400);
    const model = await api(app).post(`/admin/models/${encodeURIComponent('../gmf')}/v1/activate`).set(AUTH);
    expect(model.status).toBe(400);
  });
});

describe('admin token and API keys', () => {
  it('answers missing and wrong tokens alike with 401, and never logs the token or a key', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(chunk.toString());
        cb();
      },
    });
    const { dir, cleanup: done } = tempDir();
    const logged = await buildApp(testConfig(dir, { LOG_LEVEL: 'trace' }), { logger: pino({ level: 'trace' }, sink) });
    await logged.ready();
    try {
      const token = 'test-admin-token-0123456789';
      const wrong = 'test-admin-token-0123456780';
      const responses = [
        await request(logged.server).get('/admin/jobs'),
        await api(logged).get('/admin/jobs').set({ authorization: `Bearer ${wrong}` }),
        await api(logged).get('/admin/jobs').set({ authorization: `Bearer ${'x'.repeat(5000)}` }),
        await api(logged).get('/admin/jobs').set({ authorization: token }),
      ];
      for (const r of responses) {
        expect(r.status).toBe(401);
        expect(r.body).toEqual(responses[0].body);
      }
      expect((await api(logged).get('/admin/jobs').set({ authorization: `Bearer ${token}` })).status).toBe(200);
      const { key } = (await api(logged).post('/admin/keys').send({ name: 'logged', scopes: ['write'] })).body as { key: string };
      await api(logged, key).post('/ratings').send({ userId: 'u', itemId: 'i', rating: 4 }).expect(200);
      await api(logged, key).get('/admin/jobs').expect(403);
      await api(logged, `${key}x`).get('/admin/jobs').expect(401);
      // A key in the query string (the API reads only the header) is not logged in clear either.
      await request(logged.server).get(`/users/u/recommendations?api_key=${encodeURIComponent(key)}&limit=3`).expect(401);
      await request(logged.server).get(`/popular?limit=2&x=${encodeURIComponent(key)}&token=${token}`).expect(401);
      // The built-in principals' names are not a key's.
      for (const name of ['admin-token', 'anonymous']) {
        const taken = await api(logged).post('/admin/keys').send({ name, scopes: ['read'] });
        expect(taken.status).toBe(400);
        expect(taken.body.details[0]).toMatchObject({ path: 'body.name', message: expect.stringMatching(/reserved/) });
      }
      const text = lines.join('');
      expect(text).toContain('[redacted]');
      expect(text).not.toContain(key);
      expect(text).not.toContain(key.slice(9));
      expect(text.length).toBeGreaterThan(0);
      expect(text).not.toContain(token);
      expect(text).not.toContain(wrong);
    } finally {
      await logged.close();
      done();
    }
  });
});
