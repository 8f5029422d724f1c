import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { api, startApp, tempDir, testConfig } from '../helpers/app.js';
import { PG_URL, privateSchema } from '../helpers/postgres.js';
import { freePort } from '../helpers/processes.js';
import { until } from '../helpers/training.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/**
 * A TCP relay to the machine's PostgreSQL that can be cut (listener closed, every connection
 * reset) and restored: a database outage or partition without touching the server other tests use.
 */
class Relay {
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  constructor(
    readonly port: number,
    private readonly target: { host: string; port: number },
  ) {}

  async open(): Promise<void> {
    this.server = net.createServer((client) => {
      const upstream = net.connect(this.target);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
  }

  async cut(): Promise<void> {
    const closed = new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    for (const s of this.sockets) s.resetAndDestroy();
    await closed;
    this.server = null;
  }
}

describe('PostgreSQL outage', () => {
  it('answers 503 database_unavailable with Retry-After while the database is unreachable, stays live, and recovers by itself', async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const { url, drop } = await privateSchema('outage');
    cleanups.push(drop);
    const pg = new URL(PG_URL);
    const relay = new Relay(await freePort(), { host: pg.hostname, port: Number(pg.port || 5432) });
    await relay.open();
    cleanups.push(() => relay.cut());
    const viaRelay = new URL(url);
    viaRelay.port = String(relay.port);
    const app = await startApp(testConfig(dir, { DATABASE_URL: viaRelay.toString() }));
    cleanups.push(() => app.close());

    await api(app).post('/ratings').send({ ratings: [{ userId: 'u1', itemId: 'a', rating: 4 }, { userId: 'u2', itemId: 'a', rating: 5 }] }).expect(200);
    await relay.cut();

    const refused = await api(app).post('/ratings').send({ userId: 'u3', itemId: 'b', rating: 3 });
    expect(refused.status).toBe(503);
    expect(refused.body).toMatchObject({ code: 'database_unavailable' });
    expect(refused.headers['retry-after']).toBe('5');
    expect((await api(app).get('/users/u1/recommendations')).status).toBe(503);
    expect((await api(app).get('/healthz')).status).toBe(200);
    const ready = await api(app).get('/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body.problems[0]).toMatch(/^database: /);

    await relay.open();
    await until(async () => (await api(app).get('/readyz')).status === 200, 15_000, 'ready again');
    await api(app).post('/ratings').send({ userId: 'u3', itemId: 'b', rating: 3 }).expect(200);
    // What was acknowledged before the outage is there; what was refused during it was not half-written.
    expect(await app.services.database.stats.counts()).toMatchObject({ users: 3, items: 2, ratings: 3 });
    expect((await api(app).get('/users/u1/recommendations')).status).toBe(200);
  }, 60_000);
});
