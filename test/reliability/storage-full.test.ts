import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, sqliteDb, startApp, tempDir, testConfig } from '../helpers/app.js';

let app: FastifyInstance;
let cleanup: () => void;

beforeAll(async () => {
  let dir: string;
  ({ dir, cleanup } = tempDir());
  app = await startApp(testConfig(dir));
  await api(app).post('/ratings').send({ userId: 'before', itemId: 'x', rating: 4 }).expect(200);
});
afterAll(async () => {
  await app.close();
  cleanup();
});

/** Users with labels, imported on the API's own connection (rating batches go to the writer thread's). */
const users = (prefix: string): string => Array.from({ length: 2000 }, (_, k) => JSON.stringify({ userId: `${prefix}${k}`, labels: { plan: 'pro', country: `c${k % 90}` } })).join('\n');
const importUsers = (prefix: string) => api(app).post('/admin/import/users').set('content-type', 'application/x-ndjson').send(users(prefix));

describe('a full disk on SQLite', () => {
  it('answers 507 with Retry-After, /readyz says why, nothing acknowledged is lost, and writes resume once there is room', async () => {
    const db = sqliteDb(app);
    const pages = db.pragma('page_count', { simple: true }) as number;
    // The database may not grow: what a full disk (or quota) does to a write that needs a new page.
    db.pragma(`max_page_count = ${pages}`);
    const refused = await importUsers('full');
    expect(refused.status, JSON.stringify(refused.body)).toBe(507);
    expect(refused.body).toMatchObject({ code: 'insufficient_storage' });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    const ready = await api(app).get('/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body.problems.join(' ')).toMatch(/^storage: the disk .* full/);
    // Reads still answer, and the write before it is there.
    expect((await api(app).get('/users/before/history').expect(200)).body.items).toHaveLength(1);
    // The same answer from the writer thread's connection (where rating batches commit).
    expect(db.prepare("SELECT COUNT(*) FROM users WHERE external_id LIKE 'full%'").pluck().get()).toBe(0);
    expect(db.prepare("SELECT COUNT(*) FROM users WHERE external_id LIKE 'full%'").pluck().get()).toBe(0);

    db.pragma('max_page_count = 1073741823');
    await importUsers('room').expect(200);
    expect((await api(app).get('/readyz')).status).toBe(200);
  });

  it('answers 503 read_only with Retry-After when the database cannot be written', async () => {
    const db = sqliteDb(app);
    db.pragma('query_only = ON');
    try {
      const refused = await api(app).delete('/users/before/ratings/x');
      expect(refused.status, JSON.stringify(refused.body)).toBe(503);
      expect(refused.body).toMatchObject({ code: 'read_only' });
      expect(refused.headers['retry-after']).toBeDefined();
      expect((await api(app).get('/readyz')).body.problems.join(' ')).toMatch(/read-only/);
    } finally {
      db.pragma('query_only = OFF');
    }
    await api(app).delete('/users/before/ratings/x').expect(204);
    expect((await api(app).get('/readyz')).status).toBe(200);
  });
});
