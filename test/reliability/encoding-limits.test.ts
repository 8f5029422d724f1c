import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, api, startApp, tempDir, testConfig } from '../helpers/app.js';

let app: FastifyInstance;
let cleanup: () => void;
let base: string;

beforeAll(async () => {
  let dir: string;
  ({ dir, cleanup } = tempDir());
  app = await startApp(testConfig(dir, { IMPORT_MAX_LINE_BYTES: '65536', IMPORT_MAX_BYTES: String(8 * 1024 * 1024) }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await app.close();
  cleanup();
});

/** A raw POST: the bytes exactly as given (supertest would re-encode a string). */
function post(path: string, type: string, body: Buffer | (() => AsyncGenerator<Buffer>)): Promise<{ status: number; body: { code: string; error: string; details: { path: string; message: string }[] }; sentBytes: number }> {
  return new Promise((resolve, reject) => {
    let sentBytes = 0;
    let answered = false;
    const req = httpRequest(`${base}${path}`, { method: 'POST', headers: { 'content-type': type, authorization: `Bearer ${ADMIN_TOKEN}` } }, (res) => {
      answered = true;
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text), sentBytes }));
    });
    req.on('error', (err) => (answered ? undefined : reject(err)));
    if (Buffer.isBuffer(body)) return void req.end(body);
    void (async () => {
      for await (const chunk of body()) {
        if (answered || req.destroyed) break;
        sentBytes += chunk.length;
        if (!req.write(chunk)) await new Promise((r) => req.once('drain', r));
      }
      req.end();
    })().catch(() => undefined);
  });
}

const json = (text: string): Buffer => Buffer.from(text, 'utf8');
const users = async (): Promise<number> => (await app.services.database.stats.counts()).users;

describe('strict UTF-8 and well-formed Unicode', () => {
  it('refuses invalid UTF-8 in a JSON body with 400 invalid_utf8, storing nothing', async () => {
    const before = await users();
    // "caf\xe9": Latin-1, not UTF-8; a lenient decoder made it "caf\uFFFD", merging it with every other such id.
    const bytes = Buffer.concat([json('{"userId":"caf'), Buffer.from([0xe9]), json('","itemId":"x","rating":4}')]);
    const res = await post('/ratings', 'application/json', bytes);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'invalid_utf8', details: [{ path: 'body' }] });
    expect(await users()).toBe(before);
  });

  it('refuses a lone surrogate in an eventId, a category or a label key, naming the field; a paired one is data', async () => {
    const lone = await post('/events', 'application/json', json('{"userId":"u","itemId":"x","type":"click","eventId":"e\\ud800"}'));
    expect(lone.status).toBe(400);
    expect(lone.body.details[0]).toMatchObject({ path: 'body.eventId', message: expect.stringMatching(/lone surrogate/) });
    const category = await api(app).put('/items/x').set('content-type', 'application/json').send('{"categories":["ok","\\udc00x"]}');
    expect(category.status).toBe(400);
    expect(category.body.details[0].path).toBe('body.categories.1');
    const key = await api(app).put('/items/x').set('content-type', 'application/json').send('{"labels":{"\\ud83dk":"v"}}');
    expect(key.status).toBe(400);
    expect(key.body.details[0].path).toMatch(/^body\.labels\./);
    const paired = await post('/events', 'application/json', json('{"userId":"u","itemId":"x","type":"click","eventId":"e\\ud83d\\ude42"}'));
    expect(paired.status).toBe(200);
  });

  it('stops an NDJSON import at the line with invalid UTF-8, naming it', async () => {
    const body = Buffer.concat([json('{"userId":"n1","itemId":"x","rating":4}\n{"userId":"n2","itemId":"x","rating":4}\n{"userId":"n'), Buffer.from([0xff, 0xfe]), json('","itemId":"x","rating":4}\n')]);
    const res = await post('/admin/import/ratings', 'application/x-ndjson', body);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'invalid_utf8', details: [{ path: 'line 3' }] });
    // The lines before it were in the same unwritten transaction: nothing of the import is stored.
    expect(await app.services.database.catalogue.getUser('n1')).toBeUndefined();
    const lone = await post('/admin/import/events', 'application/x-ndjson', json('{"userId":"n1","itemId":"x","type":"click","eventId":"\\udfff"}\n'));
    expect(lone.status).toBe(400);
    expect(lone.body.details[0]).toMatchObject({ path: 'line 1', message: expect.stringMatching(/^eventId: .*lone surrogate/) });
  });
});

describe('byte limits on a streamed import', () => {
  it('refuses a line longer than IMPORT_MAX_LINE_BYTES as soon as it is, without reading the rest', async () => {
    const huge = async function* (): AsyncGenerator<Buffer> {
      yield json('{"userId":"ok","itemId":"x","rating":4}\n{"userId":"');
      const block = Buffer.alloc(64 * 1024, 0x61);
      for (let k = 0; k < 4096; k++) yield block; // 256 MiB if it were all read
    };
    const res = await post('/admin/import/ratings', 'application/x-ndjson', huge);
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ code: 'payload_too_large', details: [{ path: 'line 2' }] });
    expect(await app.services.database.catalogue.getUser('ok')).toBeUndefined();
    expect(res.sentBytes).toBeLessThan(64 * 1024 * 1024);
  });

  it('refuses a body past IMPORT_MAX_BYTES with 413', async () => {
    const many = async function* (): AsyncGenerator<Buffer> {
      const line = json('{"userId":"m","itemId":"x","rating":4}\n');
      const block = Buffer.concat(Array.from({ length: 1000 }, () => line));
      for (let k = 0; k < 400; k++) yield block; // 16 MB
    };
    const res = await post('/admin/import/ratings', 'application/x-ndjson', many);
    expect(res.status).toBe(413);
    expect(res.body.details[0]).toMatchObject({ path: 'body' });
    expect(res.body.error).toMatch(/records before it were written/);
  });
});

describe('the body deadline', () => {
  it('lets a streamed import run past REQUEST_TIMEOUT_MS while bytes keep arriving, and cuts one that stalls with 408', async () => {
    const { dir, cleanup: done } = tempDir();
    const slow = await startApp(testConfig(dir, { REQUEST_TIMEOUT_MS: '600' }));
    await slow.listen({ port: 0, host: '127.0.0.1' });
    const saved = base;
    base = `http://127.0.0.1:${(slow.server.address() as AddressInfo).port}`;
    try {
      const trickle = (pauseAfter: number, pauseMs: number) =>
        async function* (): AsyncGenerator<Buffer> {
          for (let k = 0; k < 20; k++) {
            yield json(`{"userId":"t${k}","itemId":"x","rating":4}\n`);
            await new Promise((r) => setTimeout(r, k === pauseAfter ? pauseMs : 100));
          }
        };
      // 20 lines 100 ms apart: 2 s in all, over three times the deadline.
      const steady = await post('/admin/import/ratings', 'application/x-ndjson', trickle(-1, 0));
      expect(steady.status, JSON.stringify(steady.body)).toBe(200);
      expect(steady.body).toMatchObject({ written: 20 });
      const stalled = await post('/admin/import/ratings', 'application/x-ndjson', trickle(3, 3000));
      expect(stalled.status).toBe(408);
      expect(stalled.body).toMatchObject({ code: 'request_timeout' });
      // What the steady import wrote is kept; the stalled one wrote nothing (its lines were one unfinished transaction).
      expect((await slow.services.database.stats.counts()).ratings).toBe(20);
    } finally {
      base = saved;
      await slow.close();
      done();
    }
  });
});
