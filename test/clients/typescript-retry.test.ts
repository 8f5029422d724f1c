import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Recflow, RecflowError, retryAfterSeconds } from '../../clients/typescript/src/index.js';
import { startServer, type RunningServer } from '../helpers/server.js';

/** The real fetch, noting when each attempt started and what it got. */
function timedFetch(log: { at: number; status: number }[]): typeof fetch {
  return async (input, init) => {
    const at = Date.now();
    const response = await fetch(input, init);
    log.push({ at, status: response.status });
    return response;
  };
}

/** An upload that holds `bytes` of the server's in-flight body budget until `release()`. */
function holdUpload(base: string, token: string, bytes: number): Promise<{ release(): void }> {
  return new Promise((resolve, reject) => {
    const url = new URL('/ratings', base);
    const req = http.request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': String(bytes), authorization: `Bearer ${token}` } });
    req.on('error', () => undefined);
    req.write('{', (err) => (err ? reject(err) : setTimeout(() => resolve({ release: () => req.destroy() }), 200)));
  });
}

let server: RunningServer;
beforeAll(async () => {
  // 2 KiB of bodies in flight at once: one held upload of 2,040 bytes leaves no room for another rating.
  server = await startServer({ INFLIGHT_BODY_BYTES: '2048' });
});
afterAll(async () => {
  await server?.stop();
});

describe('the TypeScript client retries', () => {
  it('a 503 after the Retry-After the server sent, then succeeds', async () => {
    const log: { at: number; status: number }[] = [];
    const client = new Recflow({ baseUrl: server.base, apiKey: server.adminToken, fetch: timedFetch(log) });
    const held = await holdUpload(server.base, server.adminToken, 2040);
    setTimeout(() => held.release(), 300);
    expect(await client.addRatings({ userId: 'u', itemId: 'i', rating: 3 })).toMatchObject({ inserted: 1 });
    expect(log.map((l) => l.status)).toEqual([503, 200]);
    // The server asked for 2 s; the retry did not come sooner.
    expect(log[1].at - log[0].at).toBeGreaterThanOrEqual(2000);
  });

  it('a 429 only once the key\'s window allows, and hands back a wait longer than the client accepts', async () => {
    const admin = new Recflow({ baseUrl: server.base, apiKey: server.adminToken });
    const { key } = await admin.createKey({ name: 'one-per-minute', scopes: ['read'], requestsPerMinute: 1 });
    const impatient = new Recflow({ baseUrl: server.base, apiKey: key, retry: { maxDelayMs: 1000 } });
    await impatient.getPopular();
    const refused = await impatient.getPopular().catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(RecflowError);
    expect(refused).toMatchObject({ status: 429, code: 'rate_limited' });
    const wait = (refused as RecflowError).retryAfterSeconds!;
    expect(wait).toBeGreaterThan(1);

    // A patient client waits out the window (up to a minute) and gets its answer.
    const log: { at: number; status: number }[] = [];
    const patient = new Recflow({ baseUrl: server.base, apiKey: key, fetch: timedFetch(log), retry: { maxDelayMs: 70_000 } });
    expect((await patient.getPopular()).name).toBe('popular');
    expect(log.map((l) => l.status)).toEqual([429, 200]);
    const asked = wait - 1;
    expect(log[1].at - log[0].at).toBeGreaterThanOrEqual(asked * 1000);
  }, 300_000);

  it('reads Retry-After as seconds or as an HTTP date', () => {
    expect(retryAfterSeconds('7')).toBe(7);
    expect(retryAfterSeconds(new Date(Date.UTC(2030, 0, 1, 0, 0, 30)).toUTCString(), Date.UTC(2030, 0, 1))).toBe(30);
    expect(retryAfterSeconds('soon')).toBeNull();
    expect(retryAfterSeconds(null)).toBeNull();
  });
});
