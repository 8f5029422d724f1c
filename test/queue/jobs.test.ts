import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../../src/db/store.js';
import { initBackend } from '../../src/models/backend.js';
import { startBullmqWorker } from '../../src/queue/bullmq.js';
import { installSnapshotFaults } from '../../src/serving/snapshots.js';
import type { Config } from '../../src/config.js';
import { api, startApp, tempDir, testConfig, sqliteDb } from '../helpers/app.js';
import { AUTH, ingestSynthetic, REDIS_URL, until, waitForJob } from '../helpers/training.js';

interface Harness {
  app: FastifyInstance;
  config: Config;
  dir: string;
  startWorker: () => Promise<void>;
  stop: () => Promise<void>;
}

const harnesses: Harness[] = [];
afterEach(async () => {
  for (const h of harnesses.splice(0)) await h.stop();
});

/**
 * The API plus, for BullMQ, a worker in this process on its own database connection (as the
 * worker container would have), on a queue name private to the test.
 */
async function start(kind: 'in-process' | 'bullmq', env: Record<string, string> = {}, withWorker = true): Promise<Harness> {
  const { dir, cleanup } = tempDir();
  const queueName = `test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const config = testConfig(dir, { MODEL_POLL_MS: '100', JOB_BACKOFF_MS: '50', QUEUE_NAME: queueName, ...(kind === 'bullmq' ? { REDIS_URL } : {}), ...env });
  const app = await startApp(config);
  const closers: (() => Promise<void>)[] = [];
  const startWorker = async (): Promise<void> => {
    const store = await openStore(config);
    const backend = await initBackend('auto');
    // This worker shares the test process: its snapshot faults are this process's.
    installSnapshotFaults(config);
    const worker = await startBullmqWorker({ store, config, backend, log: pino({ level: 'silent' }) }, REDIS_URL);
    closers.push(async () => {
      await worker.close();
      await store.close();
    });
  };
  if (kind === 'bullmq' && withWorker) await startWorker();
  const h: Harness = {
    app,
    config,
    dir,
    startWorker,
    stop: async () => {
      for (const c of closers) await c();
      await app.close();
      cleanup();
    },
  };
  harnesses.push(h);
  return h;
}

describe('training threads in a job', () => {
  it('TRAIN_THREADS=2: the in-process job trains on two threads (started from its own training thread) and its manifest says so', async () => {
    const { app, config } = await start('in-process', { TRAIN_THREADS: '2' });
    await ingestSynthetic(app);
    const res = await api(app).post('/admin/retrain').set(AUTH).send({ model: 'einmf', epochs: 2, factors: 16, refit: false });
    expect(res.status).toBe(202);
    const job = await waitForJob(app, res.body.jobId);
    expect(job.error).toBeNull();
    expect(job.state).toBe('completed');
    const manifest = JSON.parse(readFileSync(join(config.modelDir, 'einmf', job.result!.version, 'manifest.json'), 'utf8'));
    expect(manifest.training.threads).toBe(2);
    await until(async () => (await api(app).get('/users/u1/recommendations')).body.modelVersion === job.result!.version, 10_000, 'serving the new version');
  }, 600_000);
});

describe.each(['in-process', 'bullmq'] as const)('training jobs (%s queue)', (kind) => {
  it('retrains from ingested data, writes a snapshot, promotes it and serves it', async () => {
    const { app, config } = await start(kind);
    expect(app.services.queue.kind).toBe(kind);
    await ingestSynthetic(app);
    const before = await api(app).get('/users/u1/recommendations');
    expect(before.body.source).toBe('fallback');

    const res = await api(app).post('/admin/retrain').set(AUTH).send({ model: 'gmf', epochs: 3, factors: 16, lr: 0.01 });
    expect(res.status).toBe(202);
    let sawTraining = false;
    await until(async () => {
      const j = (await api(app).get(`/admin/jobs/${res.body.jobId}`).set(AUTH)).body;
      sawTraining ||= j.progress?.phase === 'training' && j.progress.epochs === 3 && j.progress.samplesPerSec > 0;
      return j.state === 'completed' || j.state === 'failed';
    }, 90_000, 'job to finish');
    const job = await waitForJob(app, res.body.jobId);
    expect(job.error).toBeNull();
    // Progress was reported while it ran (a fast job may finish between polls: its epoch history says so).
    expect(sawTraining || (job.history?.length ?? 0) > 0).toBe(true);
    expect(job.state).toBe('completed');
    // A finished job does not still say it is saving.
    expect(job.progress?.phase).toBe('done');
    expect(job.attempts).toBe(1);
    expect(job.result!.promoted).toBe(true);
    const version = job.result!.version;

    const dir = join(config.modelDir, 'gmf', version);
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({ model: 'gmf', version, jobId: res.body.jobId, hyperparameters: { factors: 16 } });
    expect(manifest.watermark.ratings).toBeGreaterThan(1000);
    expect(Object.keys(manifest.files)).toEqual(expect.arrayContaining(['item-embeddings.f32', 'user-embeddings.f32', 'users.ids', 'items.ids', 'model/model.json']));
    expect(manifest.backend.name).toMatch(/wasm|cpu|tensorflow/);
    // REFIT defaults to true: the saved model was refit on every interaction for the kept epochs.
    expect(job.result!.refit).toMatchObject({ epochs: manifest.training.bestEpoch, pairs: manifest.training.data.pairs });
    expect(manifest.training.refit).toEqual(job.result!.refit);

    const models = await api(app).get('/admin/models').set(AUTH);
    expect(models.body.models).toHaveLength(1);
    expect(models.body.models[0]).toMatchObject({ model: 'gmf', version, active: true });

    await until(async () => (await api(app).get('/users/u1/recommendations')).body.modelVersion === version, 10_000, 'serving the new version');
    const recs = await api(app).get('/users/u1/recommendations?limit=5');
    expect(recs.body).toMatchObject({ userId: 'u1', model: 'gmf', modelVersion: version, source: 'model' });
    expect(recs.body.items).toHaveLength(5);
  }, 600_000);

  it('returns the queued job for a second request for the same model, and cancels a queued job', async () => {
    const h = await start(kind, {}, false);
    await ingestSynthetic(h.app, 60, 80);
    const post = (model: string) => api(h.app).post('/admin/retrain').set(AUTH).send({ model, epochs: 1, factors: 8 });
    const a = await post('gmf');
    const b = await post('gmf');
    const c = await post('gmf');
    // The in-process runner may already have started the first job; by the third request one is queued.
    expect(c.body.deduplicated).toBe(true);
    expect([a.body.jobId, b.body.jobId]).toContain(c.body.jobId);
    const queued = (await api(h.app).get('/admin/jobs?state=queued').set(AUTH)).body.jobs;
    expect(queued.filter((j: { model: string }) => j.model === 'gmf').length).toBeLessThanOrEqual(1);

    const other = await post('bpr');
    expect(other.body.deduplicated).toBe(false);
    const cancelled = await api(h.app).delete(`/admin/jobs/${other.body.jobId}`).set(AUTH);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.state).toBe('cancelled');
    if (kind === 'bullmq') await h.startWorker();
    const done = await waitForJob(h.app, c.body.jobId);
    expect(done.state).toBe('completed');
    expect((await waitForJob(h.app, other.body.jobId)).state).toBe('cancelled');
    const again = await api(h.app).delete(`/admin/jobs/${c.body.jobId}`).set(AUTH);
    expect(again.status).toBe(409);
  }, 600_000);

  it('retries a transient failure (a full disk) with backoff and keeps its error', async () => {
    const { app } = await start(kind, { JOB_ATTEMPTS: '2', FAULT_SNAPSHOT_ERROR: 'ENOSPC' });
    try {
      await ingestSynthetic(app, 40, 60);
      const res = await api(app).post('/admin/retrain').set(AUTH).send({ model: 'gmf', epochs: 1, factors: 4 });
      const job = await waitForJob(app, res.body.jobId);
      expect(job.state).toBe('failed');
      expect(job.attempts).toBe(2);
      expect(job.error).toMatch(/ENOSPC/);
    } finally {
      installSnapshotFaults({ faultSnapshotDelayMs: 0, faultSnapshotError: undefined });
    }
  }, 600_000);

  it('fails a job no retry can fix at once: not enough data, one attempt', async () => {
    const { app } = await start(kind, { JOB_ATTEMPTS: '3', JOB_BACKOFF_MS: '60000' });
    await api(app).post('/ratings').send({ userId: 'a', itemId: 'x', rating: 4 }).expect(200);
    const res = await api(app).post('/admin/retrain').set(AUTH).send({ model: 'gmf', epochs: 1 });
    // With a minute of backoff, a retry would leave the job queued long past this wait.
    const job = await waitForJob(app, res.body.jobId, ['failed', 'completed'], 20_000);
    expect(job.state).toBe('failed');
    expect(job.attempts).toBe(1);
    expect(job.error).toMatch(/not enough data/);
  }, 600_000);
});

describe('model auto', () => {
  it('searches the candidates, registers and serves the winner, and keeps a leaderboard and per-epoch history', async () => {
    const { app } = await start('in-process');
    await ingestSynthetic(app, 80, 100);
    const res = await api(app).post('/admin/retrain').set(AUTH).send({ model: 'auto', budgetMinutes: 1 });
    expect(res.status).toBe(202);
    expect(res.body.job.model).toBe('auto');
    const job = await waitForJob(app, res.body.jobId);
    expect(job.state, JSON.stringify(job.error)).toBe('completed');
    const result = job.result as unknown as { model: string; version: string; serving: boolean; leaderboard: { model: string; status: string; valid: { 'HR@10': number } | null; test: unknown; seconds: number }[] };
    expect(result.leaderboard.length).toBeGreaterThanOrEqual(8);
    const done = result.leaderboard.filter((e) => e.valid);
    const best = Math.max(...done.map((e) => e.valid!['HR@10']));
    expect(done.find((e) => e.valid!['HR@10'] === best)!.model).toBe(result.model);
    expect(result.serving).toBe(true);
    await until(async () => (await api(app).get('/users/u1/recommendations')).body.model === result.model, 5000, 'the winner to serve');
    const stored = sqliteDb(app).prepare('SELECT model FROM models WHERE version = ?').pluck().get(result.version);
    expect(stored).toBe(result.model);
    // Training curves: every epoch of every candidate, in order.
    const full = (await api(app).get(`/admin/jobs/${res.body.jobId}`).set(AUTH)).body as { history: { stage?: string; epoch: number; valid?: number; loss: number }[] };
    expect(full.history.length).toBeGreaterThanOrEqual(done.length);
    expect(full.history.filter((h) => h.valid !== undefined).length).toBeGreaterThan(0);
    expect(new Set(full.history.map((h) => h.stage)).size).toBeGreaterThanOrEqual(done.length);
  }, 600_000);

  it('refuses hyperparameters for auto and a budget for a named model', async () => {
    const { app } = await start('in-process');
    const fixed = await api(app).post('/admin/retrain').set(AUTH).send({ model: 'auto', factors: 8 });
    expect(fixed.status).toBe(400);
    expect(fixed.body.details[0].path).toBe('body.factors');
    const budget = await api(app).post('/admin/retrain').set(AUTH).send({ model: 'gmf', budgetMinutes: 3 });
    expect(budget.body.details[0].path).toBe('body.budgetMinutes');
  });
});

describe('one running job per model', () => {
  it('with two BullMQ workers, a second job of the same model waits for the first; other models run alongside', async () => {
    const h = await start('bullmq', {}, false);
    await ingestSynthetic(h.app, 150, 200);
    await h.startWorker();
    await h.startWorker();
    const post = (body: Record<string, unknown>) => api(h.app).post('/admin/retrain').set(AUTH).send(body);
    const first = await post({ model: 'gmf', epochs: 100, patience: 100, factors: 16 });
    await until(async () => (await api(h.app).get(`/admin/jobs/${first.body.jobId}`).set(AUTH)).body.state === 'active', 20_000, 'first job running');
    const second = await post({ model: 'gmf', epochs: 1, factors: 8 });
    expect(second.body.deduplicated).toBe(false);
    const other = await post({ model: 'bpr', epochs: 1, factors: 8 });
    const [a, b, c] = await Promise.all([waitForJob(h.app, first.body.jobId), waitForJob(h.app, second.body.jobId), waitForJob(h.app, other.body.jobId)]);
    expect([a.state, b.state, c.state]).toEqual(['completed', 'completed', 'completed']);
    const times = (id: string) => sqliteDb(h.app).prepare('SELECT started_at AS s, finished_at AS f, attempts FROM jobs WHERE id = ?').get(id) as { s: number; f: number; attempts: number };
    const ta = times(first.body.jobId);
    const tb = times(second.body.jobId);
    expect(tb.s).toBeGreaterThanOrEqual(ta.f);
    expect(tb.attempts).toBe(1);
    // The other model did not wait for gmf: it started while the first gmf job was running.
    expect(times(other.body.jobId).s).toBeLessThan(ta.f);
  }, 600_000);
});

describe('promotion, rollback and retention', () => {
  it('keeps a worse version inactive, activates any version on request, and prunes old ones', async () => {
    const { app, config } = await start('in-process', { PROMOTE_TOLERANCE: '0', KEEP_VERSIONS: '2' });
    await ingestSynthetic(app);
    const train = async (body: Record<string, unknown>) => {
      const res = await api(app).post('/admin/retrain').set(AUTH).send({ model: 'gmf', factors: 16, ...body });
      return waitForJob(app, res.body.jobId);
    };
    const good = await train({ epochs: 4, lr: 0.01 });
    expect(good.result!.promoted).toBe(true);
    const bad = await train({ epochs: 1, lr: 0.00001, seed: 9 });
    expect(bad.result!.metrics.valid['HR@10']).toBeLessThan(good.result!.metrics.valid['HR@10']);
    expect(bad.result!.promoted).toBe(false);
    let active = (await api(app).get('/admin/models').set(AUTH)).body.models.filter((m: { active: boolean }) => m.active);
    expect(active.map((m: { version: string }) => m.version)).toEqual([good.result!.version]);

    const rollback = await api(app).post(`/admin/models/gmf/${bad.result!.version}/activate`).set(AUTH);
    expect(rollback.status).toBe(200);
    expect(rollback.body.active).toBe(true);
    await until(async () => (await api(app).get('/users/u1/recommendations')).body.modelVersion === bad.result!.version, 10_000, 'rollback served');

    const forced = await train({ epochs: 1, lr: 0.00001, seed: 10, force: true, refit: false });
    expect(forced.result!.promoted).toBe(true);
    expect(forced.result!.refit).toBeNull();
    // KEEP_VERSIONS=2: the oldest (good) version is gone from disk and from the list.
    const versions = (await api(app).get('/admin/models?model=gmf').set(AUTH)).body.models.map((m: { version: string }) => m.version);
    expect(versions).toEqual([forced.result!.version, bad.result!.version]);
    expect(existsSync(join(config.modelDir, 'gmf', good.result!.version))).toBe(false);
    active = (await api(app).get('/admin/models').set(AUTH)).body.models.filter((m: { active: boolean }) => m.active);
    expect(active).toHaveLength(1);

    const missing = await api(app).post('/admin/models/gmf/20990101-000000000-abcd/activate').set(AUTH);
    expect(missing.status).toBe(404);
  }, 600_000);
});

describe('automatic retraining', () => {
  it('queues a retrain of the default model after RETRAIN_EVERY new interactions', async () => {
    const { app } = await start('in-process', { RETRAIN_EVERY: '200', DEFAULT_MODEL: 'pop' });
    await api(app).post('/ratings').send({ ratings: Array.from({ length: 100 }, (_, k) => ({ userId: `u${k % 9}`, itemId: `i${k}`, rating: 4 })) });
    expect((await api(app).get('/admin/jobs').set(AUTH)).body.jobs).toEqual([]);
    await ingestSynthetic(app, 30, 40);
    await until(async () => (await api(app).get('/admin/jobs').set(AUTH)).body.jobs.length === 1, 10_000, 'an automatic job');
    const [job] = (await api(app).get('/admin/jobs').set(AUTH)).body.jobs;
    expect(job.model).toBe('pop');
    expect((await waitForJob(app, job.id)).state).toBe('completed');
  });

  it('queues a retrain on the RETRAIN_CRON schedule and skips occurrences with nothing new', async () => {
    const { app } = await start('in-process', { RETRAIN_CRON: '* * * * * *', DEFAULT_MODEL: 'pop' });
    const jobs = async () => (await api(app).get('/admin/jobs').set(AUTH)).body.jobs as { id: string; model: string }[];
    const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
    await pause(2200); // two occurrences with an empty database
    expect(await jobs()).toEqual([]);

    await ingestSynthetic(app, 30, 40);
    await until(async () => (await jobs()).length > 0, 5000, 'a scheduled job');
    for (const job of await jobs()) {
      expect(job.model).toBe('pop');
      expect((await waitForJob(app, job.id)).state).toBe('completed');
    }
    // The active version's data watermark now covers everything: later occurrences queue nothing.
    const settled = (await jobs()).length;
    await pause(2200);
    expect(await jobs()).toHaveLength(settled);
  }, 600_000);
});

describe('admin authentication and validation', () => {
  it('refuses missing or wrong tokens with 401 and validates retrain bodies', async () => {
    const { app } = await start('in-process');
    expect((await request(app.server).get('/admin/jobs')).status).toBe(401);
    const wrong = await api(app).get('/admin/jobs').set({ authorization: 'Bearer nope' });
    expect(wrong.status).toBe(401);
    expect(wrong.headers['www-authenticate']).toMatch(/Bearer/);
    expect((await api(app).post('/admin/retrain').set({ authorization: 'Basic abc' }).send({})).status).toBe(401);

    const bad = await api(app).post('/admin/retrain').set(AUTH).send({ model: 'gmf', factors: -3 });
    expect(bad.status).toBe(400);
    expect(bad.body.details[0].path).toBe('body.factors');
    const unknownHyper = await api(app).post('/admin/retrain').set(AUTH).send({ model: 'gmf', hyper: { layers: [3] } });
    expect(unknownHyper.status).toBe(400);
    expect(unknownHyper.body.details[0].message).toMatch(/layers/);
    const badRefit = await api(app).post('/admin/retrain').set(AUTH).send({ model: 'gmf', refit: 'yes' });
    expect(badRefit.status).toBe(400);
    expect(badRefit.body.details[0].path).toBe('body.refit');
    const unknownModel = await api(app).post('/admin/retrain').set(AUTH).send({ model: 'svd' });
    expect(unknownModel.status).toBe(400);
    expect(unknownModel.body.details[0].path).toBe('body.model');
    expect((await api(app).get('/admin/jobs/not-a-uuid').set(AUTH)).status).toBe(400);
    expect((await api(app).get('/admin/jobs/6f1c1f9e-1111-4111-8111-111111111111').set(AUTH)).status).toBe(404);
  });
});
