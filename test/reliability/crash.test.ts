import type { ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { closeDb, openDb } from '../../src/db/sqlite/connection.js';
import { api, startApp, tempDir, testConfig, sqliteDb } from '../helpers/app.js';
import { exited, freePort, spawnEntry, waitForHttp } from '../helpers/processes.js';
import { AUTH, ingestSynthetic, REDIS_URL, until } from '../helpers/training.js';

const children: ChildProcess[] = [];
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** The API as a real process on a free port, over a fresh temp dir. */
async function startApiProcess(ready = '/healthz') {
  const { dir, cleanup } = tempDir();
  cleanups.push(cleanup);
  const port = await freePort();
  const env = { DATABASE_PATH: join(dir, 'recflow.db'), MODEL_DIR: join(dir, 'models'), ADMIN_TOKEN: 'test-admin-token-0123456789', PORT: String(port) };
  const server = spawnEntry('src/main.ts', env);
  children.push(server);
  const base = `http://127.0.0.1:${port}`;
  await waitForHttp(`${base}${ready}`);
  return { dir, env, server, base };
}

describe('SIGKILL of the API during acknowledged ingest', () => {
  it('keeps every acknowledged rating and event, none duplicated, and restarts cleanly', async () => {
    const { dir, env, server, base } = await startApiProcess();

    const ackedRatings = new Map<string, number>();
    const ackedEvents = new Set<string>();
    let stop = false;
    const post = async (path: string, body: unknown): Promise<boolean> => {
      try {
        const res = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer test-admin-token-0123456789' }, body: JSON.stringify(body) });
        return res.status === 200;
      } catch {
        return false; // killed mid-request: not acknowledged
      }
    };
    const writer = async (w: number) => {
      for (let seq = 0; !stop; seq++) {
        const ratings = Array.from({ length: 20 }, (_, k) => ({ userId: `w${w}-u${seq}`, itemId: `i${k}`, rating: 1 + ((seq + k) % 5) }));
        if (await post('/ratings', { ratings })) for (const r of ratings) ackedRatings.set(`${r.userId}|${r.itemId}`, r.rating);
        else if (stop) return;
        const events = Array.from({ length: 10 }, (_, k) => ({ userId: `w${w}-u${seq}`, itemId: `i${k}`, type: 'click', eventId: `w${w}-s${seq}-e${k}` }));
        // Replays of an acknowledged event id must stay single.
        if (await post('/events', { events })) for (const e of events) ackedEvents.add(e.eventId);
        if (seq % 3 === 0) await post('/events', { events });
      }
    };
    const writers = Promise.all([0, 1, 2, 3].map(writer));
    await until(() => ackedRatings.size > 2000, 20_000, 'acknowledged writes');
    server.kill('SIGKILL');
    stop = true;
    await writers;
    await exited(server);

    const db = openDb(env.DATABASE_PATH, { busyTimeoutMs: 1000, synchronous: 'NORMAL' });
    try {
      const rows = db
        .prepare('SELECT u.external_id AS u, i.external_id AS i, r.value AS v FROM ratings r JOIN users u ON u.id = r.user_id JOIN items i ON i.id = r.item_id')
        .all() as { u: string; i: string; v: number }[];
      const stored = new Map(rows.map((r) => [`${r.u}|${r.i}`, r.v]));
      const missing = [...ackedRatings].filter(([k, v]) => stored.get(k) !== v);
      expect(missing).toEqual([]);
      const eventIds = db.prepare('SELECT event_id FROM events').pluck().all() as string[];
      expect(new Set(eventIds).size).toBe(eventIds.length);
      const storedEvents = new Set(eventIds);
      expect([...ackedEvents].filter((id) => !storedEvents.has(id))).toEqual([]);
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    } finally {
      closeDb(db);
    }
    const app = await startApp(testConfig(dir));
    cleanups.push(() => app.close());
    expect((await api(app).get('/readyz')).body.status).toBe('ready');
  }, 600_000);
});

describe('graceful shutdown', () => {
  it('the API and an idle worker (serving its /metrics) exit 0 on SIGTERM', async () => {
    const { dir, env, server } = await startApiProcess('/readyz');
    const metricsPort = await freePort();
    const worker = spawnEntry('src/worker.ts', { ...env, REDIS_URL, QUEUE_NAME: `graceful-${process.pid}`, WORKER_HEARTBEAT_FILE: join(dir, 'alive'), WORKER_METRICS_PORT: String(metricsPort) });
    children.push(worker);
    await until(() => existsSync(join(dir, 'alive')), 20_000, 'worker heartbeat');
    // The worker's own Prometheus endpoint: standard process metrics and its attempts' histogram.
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(metrics).toContain('process_cpu_seconds_total');
    expect(metrics).toContain('recflow_training_job_duration_seconds');
    server.kill('SIGTERM');
    worker.kill('SIGTERM');
    const stderr = (c: ChildProcess) => (c as unknown as { stderrText: string }).stderrText;
    expect(await exited(server), stderr(server)).toBe(0);
    expect(await exited(worker), stderr(worker)).toBe(0);
  }, 600_000);

  it('the API finishes a request in flight when SIGTERM arrives and refuses new connections', async () => {
    const { env, server, base } = await startApiProcess('/readyz');
    const ratings = Array.from({ length: 500 }, (_, k) => ({ userId: `u${k % 10}`, itemId: `i${k}`, rating: 4 }));
    const body = Buffer.from(JSON.stringify({ ratings }));
    const req = httpRequest(`${base}/ratings`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': body.length, authorization: 'Bearer test-admin-token-0123456789' } });
    const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
      req.on('error', reject);
      req.on('response', (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
    });
    // Headers and half the body now; the rest only after the signal has been handled.
    req.write(body.subarray(0, body.length >> 1));
    await new Promise((r) => setTimeout(r, 300));
    server.kill('SIGTERM');
    await until(async () => !(await fetch(`${base}/healthz`).then(() => true, () => false)), 10_000, 'listener closed');
    req.end(body.subarray(body.length >> 1));
    expect(await response).toEqual({ status: 200, body: JSON.stringify({ inserted: 500, updated: 0, ignored: 0 }) });
    expect(await exited(server)).toBe(0);
    const db = openDb(env.DATABASE_PATH, { busyTimeoutMs: 1000, synchronous: 'NORMAL' });
    try {
      expect(db.prepare('SELECT COUNT(*) FROM ratings').pluck().get()).toBe(500);
    } finally {
      closeDb(db);
    }
  }, 600_000);

  // Each waits for a line logged part-way through start-up (before the app is built; once the
  // backend is chosen, before the Redis handshake) and then sends the signal.
  it.each([
    ['API', 'src/main.ts', 'admin token', 'closed cleanly'],
    ['worker', 'src/worker.ts', 'tensorflow.js backend', 'worker stopped'],
  ])('the %s exits 0 on a SIGTERM that arrives during its start-up', async (_name, entry, startupLine, stoppedLine) => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const env = { DATABASE_PATH: join(dir, 'recflow.db'), MODEL_DIR: join(dir, 'models'), PORT: String(await freePort()), LOG_LEVEL: 'info' };
    const child = spawnEntry(entry, { ...env, REDIS_URL, QUEUE_NAME: `startup-${process.pid}` });
    children.push(child);
    const logs = () => (child as unknown as { stderrText: string }).stderrText;
    await until(() => logs().includes(startupLine), 20_000, 'start-up log');
    child.kill('SIGTERM');
    expect(await exited(child), logs()).toBe(0);
    expect(logs()).toContain(stoppedLine);
  }, 600_000);

  it('the worker refuses to start without REDIS_URL, naming it', async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const worker = spawnEntry('src/worker.ts', { DATABASE_PATH: join(dir, 'recflow.db'), REDIS_URL: '' });
    children.push(worker);
    expect(await exited(worker)).toBe(2);
    expect((worker as unknown as { stderrText: string }).stderrText).toMatch(/REDIS_URL/);
  }, 600_000);
});

describe('SIGKILL of the worker', () => {
  async function setup(faultDelayMs: number) {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const queueName = `crash-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    const env = {
      DATABASE_PATH: join(dir, 'recflow.db'),
      MODEL_DIR: join(dir, 'models'),
      REDIS_URL,
      QUEUE_NAME: queueName,
      JOB_LOCK_MS: '2000',
      JOB_ATTEMPTS: '3',
    };
    const app: FastifyInstance = await startApp(testConfig(dir, { ...env, MODEL_POLL_MS: '100' }));
    cleanups.push(() => app.close());
    await ingestSynthetic(app, 150, 200, 4);
    const worker = spawnEntry('src/worker.ts', { ...env, FAULT_SNAPSHOT_DELAY_MS: String(faultDelayMs) });
    children.push(worker);
    return { app, env, worker };
  }

  const jobOf = async (app: FastifyInstance, id: string) => (await api(app).get(`/admin/jobs/${id}`).set(AUTH)).body as { state: string; attempts: number; progress: { phase?: string; epoch?: number } | null; result: { version: string } | null };
  const versions = (app: FastifyInstance) => sqliteDb(app).prepare('SELECT version FROM models').pluck().all() as string[];

  it.each([
    ['mid-training', 0, (p: { phase?: string; epoch?: number } | null) => p?.phase === 'training' && (p.epoch ?? 0) >= 1],
    ['mid-snapshot-write', 8000, (p: { phase?: string } | null) => p?.phase === 'saving'],
  ] as const)('%s: registers no partial version and the job is retried to completion', async (_name, faultDelayMs, killWhen) => {
    const { app, env, worker } = await setup(faultDelayMs);
    const res = await api(app).post('/admin/retrain').set(AUTH).send({ model: 'gmf', epochs: faultDelayMs ? 2 : 400, factors: 16, lr: 0.01 });
    expect(res.status).toBe(202);
    const id = res.body.jobId as string;
    await until(async () => killWhen((await jobOf(app, id)).progress), 60_000, 'the moment to kill');
    if (faultDelayMs) await new Promise((r) => setTimeout(r, 300)); // inside the paused write
    worker.kill('SIGKILL');
    await exited(worker);

    expect(versions(app)).toEqual([]);
    const gmfDir = join(env.MODEL_DIR, 'gmf');
    const onDisk = existsSync(gmfDir) ? readdirSync(gmfDir) : [];
    expect(onDisk.filter((d) => !d.startsWith('.tmp-'))).toEqual([]);
    expect((await api(app).get('/users/u1/recommendations')).body.source).toBe('fallback');

    // Killed inside the write: the temp dir is there, never renamed, never registered.
    if (faultDelayMs) expect(onDisk.some((d) => d.startsWith('.tmp-'))).toBe(true);

    // A fresh worker picks the job up once its lock expires (stalled-job recovery). The request
    // asked for 400 epochs; early stopping (patience 3) ends the retried attempt long before.
    const second = spawnEntry('src/worker.ts', { ...env, FAULT_SNAPSHOT_DELAY_MS: '0' });
    children.push(second);
    await until(async () => ['completed', 'failed'].includes((await jobOf(app, id)).state), 90_000, 'retried job to finish');
    const job = await jobOf(app, id);
    expect(job.state).toBe('completed');
    expect(job.attempts).toBeGreaterThanOrEqual(2);
    expect(versions(app)).toEqual([job.result!.version]);
  }, 600_000);
});
