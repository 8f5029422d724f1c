import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import type { FastifyInstance } from 'fastify';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { RouteScope } from '../../src/api/access.js';
import { OPENAPI_PATH } from '../../src/app.js';
import { ADMIN_TOKEN, api, defaultKey, startApp, tempDir, testConfig, sqliteDb } from '../helpers/app.js';

/**
 * The access rule, written out independently of the code: what each route needs. The test
 * fails when a registered route is missing here, so a new route cannot be left unclassified.
 */
const EXPECTED: Record<string, RouteScope> = {
  'GET /healthz': 'public',
  'GET /readyz': 'public',
  'GET /metrics': 'public',
  'GET /openapi.yaml': 'public',
  'POST /ratings': 'write',
  'POST /events': 'write',
  'GET /users/:id/history': 'read',
  'GET /users/:id/recommendations': 'read',
  'GET /items/:id/similar': 'read',
  'POST /recommendations': 'read',
  'GET /users/:id/similar': 'read',
  'GET /popular': 'read',
  'GET /latest': 'read',
  'GET /leaderboards/:name': 'read',
  'GET /items/:id': 'read',
  'PUT /items/:id': 'write',
  'DELETE /items/:id': 'write',
  'PUT /items': 'write',
  'GET /users/:id': 'read',
  'PUT /users/:id': 'write',
  'DELETE /users/:id': 'admin',
  'POST /admin/retrain': 'admin',
  'GET /admin/jobs': 'admin',
  'GET /admin/jobs/:id': 'admin',
  'DELETE /admin/jobs/:id': 'admin',
  'GET /admin/models': 'admin',
  'POST /admin/models/:model/:version/activate': 'admin',
  'GET /admin/serving': 'admin',
  'GET /admin/export/:kind': 'admin',
  'GET /items': 'read',
  'GET /users': 'read',
  'POST /admin/import/:kind': 'admin',
  'DELETE /users/:id/ratings/:itemId': 'write',
  'DELETE /events/:eventId': 'write',
  'POST /admin/serving': 'admin',
  'POST /admin/keys': 'admin',
  'GET /admin/keys': 'admin',
  'DELETE /admin/keys/:id': 'admin',
  'GET /admin/stats': 'admin',
  'GET /admin/stats/ingest': 'admin',
  'GET /admin/stats/serving': 'admin',
  'GET /admin/stats/pipeline': 'admin',
  'GET /admin/config': 'admin',
  'POST /impressions': 'write',
  'GET /stats/online': 'admin',
  'GET /admin/experiments': 'admin',
  'POST /admin/experiments': 'admin',
  'GET /admin/experiments/:id': 'admin',
  'POST /admin/experiments/:id/stop': 'admin',
  'POST /admin/experiments/:id/conclude': 'admin',
  'POST /admin/experiments/:id/promote': 'admin',
  'GET /admin/offpolicy': 'admin',
  'GET /': 'public',
  'GET /dashboard': 'public',
  'GET /dashboard/*': 'public',
};

type Caller = 'none' | 'wrong' | 'read' | 'write' | 'admin';
const CALLERS: Caller[] = ['none', 'wrong', 'read', 'write', 'admin'];
const RANK: Record<Caller, RouteScope[]> = {
  none: ['public'],
  wrong: ['public'],
  read: ['public', 'read'],
  write: ['public', 'write'],
  admin: ['public', 'read', 'write', 'admin'],
};

let app: FastifyInstance;
let cleanup: () => void;
const keys: Record<Caller, string | null> = { none: null, wrong: 'rf_this-is-not-a-key-0000000000000000000000', read: null, write: null, admin: ADMIN_TOKEN };

async function createKey(body: Record<string, unknown>): Promise<{ id: number; key: string; name: string }> {
  const res = await api(app).post('/admin/keys').send(body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: number; key: string; name: string };
}

beforeAll(async () => {
  let dir: string;
  ({ dir, cleanup } = tempDir());
  app = await startApp(testConfig(dir));
  keys.read = (await createKey({ name: 'reader', scopes: ['read'] })).key;
  keys.write = (await createKey({ name: 'writer', scopes: ['write'] })).key;
});
afterAll(async () => {
  await app.close();
  cleanup();
});

const concrete = (url: string) => url.replace(':model', 'gmf').replace(':version', 'v1').replace(':kind', 'users').replace(/:[A-Za-z]+/g, 'x');
const call = (method: string, url: string, caller: Caller) => {
  const r = request(app.server)[method.toLowerCase() as 'get'](concrete(url));
  const key = keys[caller];
  if (key) r.set('authorization', `Bearer ${key}`);
  // A body no route accepts: an authorised caller gets a validation error, never a write.
  return ['POST', 'PUT'].includes(method) ? r.send({ probe: true }) : r;
};

describe('access to every route', () => {
  const served = () => app.services.routes.filter((r) => r.method !== 'HEAD' && !r.url.startsWith('/docs')).map((r) => `${r.method} ${r.url}`);

  it('classifies every registered route', () => {
    expect(served().sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  it('answers each caller as documented: 401 without a valid key, 403 without the scope, neither with it', async () => {
    const spec = parse(readFileSync(OPENAPI_PATH, 'utf8')) as { paths: Record<string, Record<string, { security?: Record<string, string[]>[]; responses: Record<string, unknown> }>> };
    const failures: string[] = [];
    for (const route of served()) {
      const [method, url] = route.split(' ');
      const scope = EXPECTED[route];
      const documented = spec.paths[url.replace(/:([a-z]+)/g, '{$1}')]?.[method.toLowerCase()];
      if (documented && scope !== 'public') {
        if (JSON.stringify(documented.security) !== JSON.stringify([{ apiKey: [scope] }])) failures.push(`${route}: security ${JSON.stringify(documented.security)}`);
        for (const status of ['401', '403', '429']) if (!documented.responses[status]) failures.push(`${route}: ${status} not documented`);
      }
      for (const caller of CALLERS) {
        const res = await call(method, url, caller);
        const allowed = RANK[caller].includes(scope);
        const expected = allowed ? 'not 401/403' : caller === 'none' || caller === 'wrong' ? '401' : '403';
        const got = res.status;
        const ok = allowed ? got !== 401 && got !== 403 : got === Number(expected);
        if (!ok) failures.push(`${route} as ${caller}: ${got}, expected ${expected}`);
        if (!allowed && res.body.code !== (expected === '401' ? 'unauthorized' : 'forbidden')) failures.push(`${route} as ${caller}: code ${res.body.code}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('authenticates before reading or validating anything: malformed, oversized and unknown requests get 401', async () => {
    const malformed = await request(app.server).post('/ratings').set('content-type', 'application/json').send('{"userId":');
    expect(malformed.status).toBe(401);
    const wrongType = await request(app.server).post('/ratings').set('content-type', 'text/csv').send('a,b');
    expect(wrongType.status).toBe(401);
    const unknown = await request(app.server).get('/no/such/route');
    expect(unknown.status).toBe(401);
    expect(unknown.headers['www-authenticate']).toMatch(/^Bearer/);
    // With a key, the same requests reach validation and routing.
    expect((await api(app, keys.write!).post('/ratings').set('content-type', 'application/json').send('{"userId":')).status).toBe(400);
    expect((await api(app, keys.read!).get('/no/such/route')).status).toBe(404);
  });
});

describe('key lifecycle', () => {
  it('shows a key once, lists it without the secret, records its use, and a revoked key fails on the next request', async () => {
    const created = await createKey({ name: 'web-frontend', scopes: ['write', 'read'] });
    expect(created.key).toMatch(/^rf_[A-Za-z0-9_-]{43}$/);
    expect(created).toMatchObject({ name: 'web-frontend', scopes: ['read', 'write'], lastUsedAt: null, revokedAt: null });

    const listed = await api(app).get('/admin/keys');
    expect(JSON.stringify(listed.body)).not.toContain(created.key);
    const entry = listed.body.keys.find((k: { id: number }) => k.id === created.id);
    expect(entry).toMatchObject({ name: 'web-frontend', prefix: created.key.slice(0, 9) });
    expect(entry).not.toHaveProperty('key');

    await api(app, created.key).post('/ratings').send({ userId: 'u1', itemId: 'i1', rating: 4 }).expect(200);
    await app.services.access.flush();
    const used = (await api(app).get('/admin/keys')).body.keys.find((k: { id: number }) => k.id === created.id);
    expect(used.lastUsedAt).not.toBeNull();

    expect((await api(app).post('/admin/keys').send({ name: 'web-frontend', scopes: ['read'] })).status).toBe(409);
    const revoked = await api(app).delete(`/admin/keys/${created.id}`);
    expect(revoked.status).toBe(200);
    expect(JSON.stringify(revoked.body)).not.toContain(created.key);
    expect((await api(app, created.key).get('/users/u1/history')).status).toBe(401);
    expect((await api(app).delete(`/admin/keys/${created.id}`)).status).toBe(404);
    // The name is free again; the revoked row stays for the record.
    await createKey({ name: 'web-frontend', scopes: ['read'] });
    const all = (await api(app).get('/admin/keys?include_revoked=true')).body.keys.filter((k: { name: string }) => k.name === 'web-frontend');
    expect(all.map((k: { revokedAt: string | null }) => k.revokedAt !== null)).toEqual([true, false]);
  });

  it('refuses malformed key requests naming the field', async () => {
    for (const [body, path] of [
      [{ name: 'Has Spaces', scopes: ['read'] }, 'body.name'],
      [{ name: 'ok', scopes: [] }, 'body.scopes'],
      [{ name: 'ok', scopes: ['root'] }, 'body.scopes.0'],
      [{ name: 'ok', scopes: ['read'], requestsPerMinute: -1 }, 'body.requestsPerMinute'],
    ] as const) {
      const res = await api(app).post('/admin/keys').send(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.details[0].path).toBe(path);
    }
  });
});

/** A POST whose body has no declared length (Transfer-Encoding: chunked), sent in pieces. */
async function chunkedPost(path: string, key: string, pieces: string[]): Promise<{ status: number }> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const { request: httpRequest } = await import('node:http');
  return new Promise((resolve, reject) => {
    const req = httpRequest({ port, host: '127.0.0.1', path, method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
    });
    req.on('error', reject);
    for (const p of pieces) req.write(p);
    req.end();
  });
}

describe('per-key rate limits', () => {
  it('limits requests per minute per key with 429 + Retry-After, stores nothing refused, and leaves other keys alone', async () => {
    const limited = await createKey({ name: 'limited', scopes: ['write'], requestsPerMinute: 3 });
    const statuses: number[] = [];
    let last: request.Response | undefined;
    for (let k = 0; k < 5; k++) {
      last = await api(app, limited.key).post('/ratings').send({ userId: 'rl', itemId: `i${k}`, rating: 3 });
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    expect(Number(last!.headers['retry-after'])).toBeGreaterThan(0);
    expect(last!.body.code).toBe('rate_limited');
    const stored = sqliteDb(app).prepare("SELECT COUNT(*) FROM ratings r JOIN users u ON u.id = r.user_id WHERE u.external_id = 'rl'").pluck().get();
    expect(stored).toBe(3);
    expect((await api(app, keys.write!).post('/ratings').send({ userId: 'rl2', itemId: 'i1', rating: 3 })).status).toBe(200);
    const metrics = (await request(app.server).get('/metrics')).text;
    expect(metrics).toMatch(/recflow_key_requests_total\{key="limited",outcome="rate_limited"\} 2/);
    expect(metrics).toMatch(/recflow_key_requests_total\{key="limited",outcome="ok"\} 3/);
    expect(metrics).not.toContain(limited.key);
  });

  it('limits request-body bytes per minute per key, declared or streamed', async () => {
    const small = await createKey({ name: 'small-budget', scopes: ['write'], bytesPerMinute: 3000 });
    const body = JSON.stringify({ ratings: Array.from({ length: 25 }, (_, k) => ({ userId: 'bytes', itemId: `item-${k}`, rating: 4 })) });
    expect(body.length).toBeGreaterThan(1000);
    expect(body.length).toBeLessThan(1500);
    const send = () => api(app, small.key).post('/ratings').set('content-type', 'application/json').send(body);
    expect((await send()).status).toBe(200);
    expect((await send()).status).toBe(200);
    const third = await send();
    expect(third.status).toBe(429);
    expect(Number(third.headers['retry-after'])).toBeGreaterThan(0);

    const chunky = await createKey({ name: 'chunked-budget', scopes: ['write'], bytesPerMinute: 1000 });
    const streamed = await chunkedPost('/ratings', chunky.key, [body.slice(0, 700), body.slice(700)]);
    expect(streamed.status).toBe(429);
  });
});

describe('secure by default', () => {
  it('generates an admin token and a read+write key (0600) on first start, never a second one, and never revives a revoked one', async () => {
    const { dir, cleanup: done } = tempDir();
    const env = testConfig(dir);
    const config = { ...env, adminToken: undefined };
    let fresh = await startApp(config);
    try {
      const { statSync } = await import('node:fs');
      const key = defaultKey(fresh);
      const token = readFileSync(`${config.dataDir}/admin-token`, 'utf8').trim();
      for (const file of ['api-key', 'admin-token']) expect(statSync(`${config.dataDir}/${file}`).mode & 0o777).toBe(0o600);
      await api(fresh, key).post('/ratings').send({ userId: 'u', itemId: 'i', rating: 4 }).expect(200);
      await api(fresh, key).get('/users/u/history').expect(200);
      expect((await api(fresh, key).get('/admin/jobs')).status).toBe(403);
      await api(fresh, token).get('/admin/jobs').expect(200);
      await fresh.close();

      fresh = await startApp(config);
      expect(defaultKey(fresh)).toBe(key);
      const listed = (await api(fresh, token).get('/admin/keys')).body.keys;
      expect(listed).toHaveLength(1);
      await api(fresh, token).delete(`/admin/keys/${listed[0].id}`).expect(200);
      await fresh.close();

      fresh = await startApp(config);
      expect((await api(fresh, key).get('/users/u/history')).status).toBe(401);
      expect((await api(fresh, token).get('/admin/keys')).body.keys).toHaveLength(0);
    } finally {
      await fresh.close();
      done();
    }
  });

  it('AUTH=off opens every route, and says so at start', async () => {
    const { dir, cleanup: done } = tempDir();
    const lines: string[] = [];
    const { Writable } = await import('node:stream');
    const pino = (await import('pino')).default;
    const { buildApp } = await import('../../src/app.js');
    const open = await buildApp(testConfig(dir, { AUTH: 'off' }), { logger: pino({ level: 'warn' }, new Writable({ write: (c: Buffer, _e, cb) => (lines.push(c.toString()), cb()) })) });
    try {
      await open.ready();
      expect((await request(open.server).get('/admin/jobs')).status).toBe(200);
      expect((await request(open.server).post('/ratings').send({ userId: 'u', itemId: 'i', rating: 4 })).status).toBe(200);
      expect(lines.join('')).toMatch(/AUTH=off/);
    } finally {
      await open.close();
      done();
    }
  });
});

describe('recflow keys (CLI)', () => {
  const run = promisify(execFile);
  const cli = (...args: string[]) => run(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'keys', ...args, '--db', app.services.config.databasePath]);

  it('creates a scoped key that works at once, lists it without the secret, and revokes it by name', async () => {
    const { stdout, stderr } = await cli('create', '--scope', 'write', '--name', 'cli-frontend', '--requests-per-minute', '100');
    const key = stdout.trim();
    expect(key).toMatch(/^rf_/);
    expect(stderr).toMatch(/not shown again/);
    expect(stderr).not.toContain(key);
    await api(app, key).post('/ratings').send({ userId: 'cli', itemId: 'i', rating: 5 }).expect(200);
    expect((await api(app, key).get('/users/cli/history')).status).toBe(403);

    const listed = (await cli('list')).stdout;
    expect(listed).toMatch(/cli-frontend\trf_\S+…\twrite\treq\/min 100/);
    expect(listed).not.toContain(key);
    await expect(cli('create', '--scope', 'read', '--name', 'cli-frontend')).rejects.toThrow(/already named/);
    await expect(cli('create', '--scope', 'root', '--name', 'x')).rejects.toThrow(/--scope must be one of/);

    await cli('revoke', 'cli-frontend');
    expect((await api(app, key).post('/ratings').send({ userId: 'cli', itemId: 'i', rating: 5 })).status).toBe(401);
  }, 600_000);
});
