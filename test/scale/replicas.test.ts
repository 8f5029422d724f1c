import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/app.js';
import { privateSchema } from '../helpers/postgres.js';
import { exited, freePort, spawnEntry, waitForHttp } from '../helpers/processes.js';
import { REDIS_URL, until } from '../helpers/training.js';

const TOKEN = 'test-admin-token-0123456789';
const children: ChildProcess[] = [];
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Two API processes and one worker sharing a PostgreSQL schema and a Redis queue, each with a MODEL_DIR of its own: snapshots travel through the database. */
async function cluster() {
  const { dir, cleanup } = tempDir();
  cleanups.push(cleanup);
  const { url, drop } = await privateSchema('e2e');
  cleanups.push(drop);
  const shared = {
    DATABASE_URL: url,
    DATA_DIR: dir,
    ADMIN_TOKEN: TOKEN,
    REDIS_URL,
    QUEUE_NAME: `replicas-${process.pid}-${Date.now()}`,
    // Polling would find a new version within a minute: anything faster came by NOTIFY.
    MODEL_POLL_MS: '600000',
    // Likewise a cached answer would live 10 minutes: a fresher one came by the ingest announcement.
    RECOMMENDATION_CACHE_TTL_MS: '600000',
    PG_POOL_SIZE: '4',
  };
  const api = async (name: string) => {
    const port = await freePort();
    const child = spawnEntry('src/main.ts', { ...shared, MODEL_DIR: join(dir, `models-${name}`), PORT: String(port) });
    children.push(child);
    const base = `http://127.0.0.1:${port}`;
    await waitForHttp(`${base}/readyz`, 120_000).catch((err: Error) => {
      throw new Error(`${err.message}\n${(child as unknown as { stderrText: string }).stderrText}`);
    });
    return { child, base };
  };
  // Started together: they migrate the same schema, the advisory lock lets the first do it.
  const [a, b] = await Promise.all([api('a'), api('b')]);
  const worker = spawnEntry('src/worker.ts', { ...shared, MODEL_DIR: join(dir, 'models-worker') });
  children.push(worker);
  return { url, a, b, worker };
}

const call = async (base: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> => {
  const res = await fetch(`${base}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json().catch(() => ({}))) as Record<string, unknown> };
};

async function storedEventIds(url: string): Promise<Set<string>> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return new Set((await c.query<{ event_id: string }>('SELECT event_id FROM events WHERE event_id IS NOT NULL')).rows.map((r) => r.event_id));
  } finally {
    await c.end();
  }
}

describe('scale-out on PostgreSQL: two API replicas and a worker', () => {
  it('ingest through one replica, a retrain on the worker, both replicas serve the new version, a write through one replica refreshes the other\'s cached answer; a SIGKILLed replica loses no acknowledged row', async () => {
    const { url, a, b, worker } = await cluster();
    // Ingest through replica A only.
    for (let u = 0; u < 60; u++) {
      const ratings = Array.from({ length: 12 }, (_, k) => ({ userId: `u${u}`, itemId: `i${(u * 7 + k * 3) % 90}`, rating: 1 + ((u + k) % 5) }));
      expect((await call(a.base, '/ratings', { ratings })).status).toBe(200);
    }
    // Replica B reads what A wrote, and queues the retrain the worker runs.
    expect((await call(b.base, '/users/u3/history')).status).toBe(200);
    const queued = await call(b.base, '/admin/retrain', { model: 'gmf', epochs: 2, hyper: { factors: 8 } });
    expect(queued.status, JSON.stringify(queued.json)).toBe(202);
    let version = '';
    await until(async () => {
      const job = (await call(a.base, `/admin/jobs/${queued.json.jobId as string}`)).json;
      if (job.state === 'failed') throw new Error(JSON.stringify(job));
      version = (job.result as { version?: string } | null)?.version ?? '';
      return job.state === 'completed';
    }, 90_000, 'the worker completes the retrain');
    // Both replicas load it well before their 10-minute poll: the worker's NOTIFY reached them.
    for (const replica of [a, b]) {
      await until(async () => (await call(replica.base, '/admin/serving')).json.loadedVersion === version, 15_000, `${replica.base} serves ${version}`);
      const recs = await call(replica.base, '/users/u3/recommendations?limit=5');
      expect(recs.json).toMatchObject({ model: 'gmf', modelVersion: version, source: 'model' });
    }
    worker.kill('SIGTERM');

    // Read-your-writes across replicas: B caches u3's answer, u3 rates its top item through A,
    // and B stops recommending it (seen items are left out) without waiting for the cache TTL.
    const top = ((await call(b.base, '/users/u3/recommendations?limit=5')).json.items as { itemId: string }[])[0].itemId;
    expect(((await call(b.base, '/users/u3/recommendations?limit=5')).json.items as { itemId: string }[])[0].itemId).toBe(top);
    expect((await call(a.base, '/ratings', { userId: 'u3', itemId: top, rating: 5 })).status).toBe(200);
    await until(async () => !((await call(b.base, '/users/u3/recommendations?limit=5')).json.items as { itemId: string }[]).some((i) => i.itemId === top), 5000, `replica B drops ${top} for u3`);

    // SIGKILL replica A while four writers send it events; every acknowledged event is stored once.
    const acked = new Set<string>();
    let stop = false;
    const writer = async (w: number): Promise<void> => {
      for (let seq = 0; !stop; seq++) {
        const events = Array.from({ length: 20 }, (_, k) => ({ userId: `k${w}-${seq}`, itemId: `i${k}`, type: 'click', eventId: `w${w}-s${seq}-e${k}` }));
        const ok = await call(a.base, '/events', { events }).then((r) => r.status === 200, () => false);
        if (ok) for (const e of events) acked.add(e.eventId);
        else if (stop) return;
      }
    };
    const writers = Promise.all([0, 1, 2, 3].map(writer));
    await until(() => acked.size > 2000, 30_000, 'acknowledged events');
    a.child.kill('SIGKILL');
    stop = true;
    await writers;
    await exited(a.child);
    const stored = await storedEventIds(url);
    expect([...acked].filter((id) => !stored.has(id))).toEqual([]);
    // The surviving replica still answers, from the same data.
    expect((await call(b.base, '/readyz')).status).toBe(200);
    expect((await call(b.base, '/admin/stats')).status).toBe(200);
  }, 600_000);
});
