import type { ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Queue, UnrecoverableError, Worker, type ConnectionOptions } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { JobVersionExists } from '../../src/db/models-repository.js';
import { initBackend } from '../../src/models/backend.js';
import { PermanentJobError } from '../../src/train/errors.js';
import { runTrainingJob } from '../../src/train/job-handler.js';
import { promotionPolicy } from '../../src/train/promotion.js';
import { api, startApp, tempDir, testConfig, sqliteDb } from '../helpers/app.js';
import { exited, spawnEntry } from '../helpers/processes.js';
import { PrivateRedis } from '../helpers/redis.js';
import { AUTH, ingestSynthetic, REDIS_URL, until, waitForJob } from '../helpers/training.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const uniqueQueue = () => `truth-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;

async function bullmqApp(redisUrl: string, env: Record<string, string> = {}) {
  const { dir, cleanup } = tempDir();
  cleanups.push(cleanup);
  const queueName = uniqueQueue();
  const app = await startApp(testConfig(dir, { REDIS_URL: redisUrl, QUEUE_NAME: queueName, MODEL_POLL_MS: '100', ...env }));
  cleanups.push(() => app.close());
  return { app, dir, queueName, env: { DATABASE_PATH: app.services.config.databasePath, MODEL_DIR: app.services.config.modelDir, REDIS_URL: redisUrl, QUEUE_NAME: queueName, ...env } };
}

function worker(env: Record<string, string>): ChildProcess {
  const child = spawnEntry('src/worker.ts', env);
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited(child);
  });
  return child;
}

const jobRow = (app: FastifyInstance, id: string) =>
  sqliteDb(app).prepare('SELECT state, attempts, error, requeued FROM jobs WHERE id = ?').get(id) as { state: string; attempts: number; error: string | null; requeued: number };
const versionsOf = (app: FastifyInstance) => sqliteDb(app).prepare('SELECT version, job_id AS jobId FROM models').all() as { version: string; jobId: string }[];
const retrain = async (app: FastifyInstance, body: Record<string, unknown>) => {
  const res = await api(app).post('/admin/retrain').set(AUTH).send(body);
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return res.body as { jobId: string; deduplicated: boolean };
};

describe('one version per job', () => {
  it('refuses a second registration for the same job and removes that execution\'s snapshot', async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const app = await startApp(testConfig(dir));
    cleanups.push(() => app.close());
    await ingestSynthetic(app, 40, 60);
    const ctx = { store: app.services.database, config: app.services.config, backend: await initBackend('cpu'), jobId: 'job-1' };
    const first = await runTrainingJob({ model: 'gmf', epochs: 1, hyper: { factors: 4 } }, ctx);
    const second = runTrainingJob({ model: 'gmf', epochs: 1, hyper: { factors: 4 } }, ctx);
    await expect(second).rejects.toThrow(PermanentJobError);
    await expect(second).rejects.toThrow(/job job-1 already registered version/);
    expect(versionsOf(app)).toEqual([{ version: first.version, jobId: 'job-1' }]);
    expect(readdirSync(join(app.services.config.modelDir, 'gmf'))).toEqual([first.version]);
    await expect(
      app.services.database.models.register({ model: 'gmf', version: 'v-other', path: '/x', validHr10: 0.9, metrics: {}, manifest: {}, jobId: 'job-1' }, promotionPolicy({ tolerance: 0, force: false }), Date.now()),
    ).rejects.toThrow(JobVersionExists);
  }, 600_000);
});

describe('records reconcile with the queue (BullMQ)', () => {
  it('a job Redis lost is enqueued again once and runs; lost twice, it fails and the next retrain is a new job', async () => {
    const redis = await PrivateRedis.start();
    cleanups.push(() => redis.stop());
    const { app, env } = await bullmqApp(redis.url, { JOB_RECONCILE_MS: '600000' });
    await ingestSynthetic(app, 40, 60);
    const restartEmpty = async () => {
      await redis.kill();
      await redis.restart();
    };

    const q = new Queue(env.QUEUE_NAME, { connection: { port: redis.port } as ConnectionOptions });
    cleanups.push(() => q.close());
    const retrainWhenUp = async () => {
      let body: { jobId: string; deduplicated: boolean } | undefined;
      await until(async () => {
        const res = await api(app).post('/admin/retrain').set(AUTH).send({ model: 'gmf', epochs: 1, factors: 4 });
        body = res.body as typeof body;
        return res.status === 202;
      }, 10_000, 'retrain accepted after the restart');
      return body!;
    };

    const first = await retrain(app, { model: 'gmf', epochs: 1, factors: 4 });
    await restartEmpty();
    // Not deduplicated into a dead record: the lost job is enqueued again, and that is what is reused.
    const reused = await retrainWhenUp();
    expect(reused).toMatchObject({ jobId: first.jobId, deduplicated: true });
    expect(jobRow(app, first.jobId)).toMatchObject({ state: 'queued', requeued: 1 });
    expect(jobRow(app, first.jobId).error).toMatch(/queue had lost this job/);
    expect(await q.getJobState(first.jobId)).toBe('waiting');

    // Lost a second time: failed with a clear error, and the retrain is a new job.
    await restartEmpty();
    const fresh = await retrainWhenUp();
    expect(fresh.deduplicated).toBe(false);
    expect(fresh.jobId).not.toBe(first.jobId);
    expect(jobRow(app, first.jobId)).toMatchObject({ state: 'failed', error: 'the queue lost this job twice (Redis restarted without its data?); request a new retrain' });
    worker(env);
    expect((await waitForJob(app, fresh.jobId)).state).toBe('completed');
    expect(jobRow(app, first.jobId).state).toBe('failed');
  }, 600_000);

  it('mirrors a job BullMQ failed (e.g. stalled past the limit) into its record, with the reason, on the periodic pass', async () => {
    const { app, queueName } = await bullmqApp(REDIS_URL, { JOB_RECONCILE_MS: '1000' });
    const { jobId } = await retrain(app, { model: 'gmf', epochs: 1 });
    const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    cleanups.push(() => void connection.disconnect());
    // A bare worker standing in for BullMQ's own stalled-job failure: the record is never touched.
    const bare = new Worker(queueName, async () => {
      throw new UnrecoverableError('job stalled more than allowable limit');
    }, { connection: connection as unknown as ConnectionOptions });
    cleanups.push(() => bare.close());
    const queue = new Queue(queueName, { connection: connection as unknown as ConnectionOptions });
    cleanups.push(async () => {
      await queue.obliterate({ force: true });
      await queue.close();
    });
    await until(async () => (await queue.getJobState(jobId)) === 'failed', 10_000, 'BullMQ failed the job');
    await until(() => jobRow(app, jobId).state === 'failed', 5000, 'the record to follow');
    expect(jobRow(app, jobId)).toMatchObject({ state: 'failed', error: 'the queue failed this job: job stalled more than allowable limit' });
  }, 600_000);
});

describe('one execution per job (BullMQ)', () => {
  it('a Redis outage longer than the lock, with two workers: the job runs once and registers one version', async () => {
    const redis = await PrivateRedis.start();
    cleanups.push(() => redis.stop());
    const { app, env } = await bullmqApp(redis.url, { JOB_LOCK_MS: '1000', JOB_ATTEMPTS: '3' });
    await ingestSynthetic(app, 60, 80);
    const workerEnv = { ...env, FAULT_SNAPSHOT_DELAY_MS: '6000' };
    worker(workerEnv);
    worker(workerEnv);
    const { jobId } = await retrain(app, { model: 'gmf', epochs: 2, factors: 8 });
    await until(async () => (await api(app).get(`/admin/jobs/${jobId}`).set(AUTH)).body.progress?.phase === 'saving', 60_000, 'snapshot write under way');
    // Redis freezes for three lock lengths: the lock expires, and the job is handed out again.
    redis.process.kill('SIGSTOP');
    await new Promise((r) => setTimeout(r, 3000));
    redis.process.kill('SIGCONT');
    expect((await waitForJob(app, jobId)).state).toBe('completed');
    // Long enough for a second execution's own paused snapshot write to have registered.
    await new Promise((r) => setTimeout(r, 9000));
    expect(versionsOf(app)).toHaveLength(1);
    expect(jobRow(app, jobId)).toMatchObject({ state: 'completed', attempts: 1 });
    const dirs = existsSync(join(env.MODEL_DIR, 'gmf')) ? readdirSync(join(env.MODEL_DIR, 'gmf')).filter((d) => !d.startsWith('.tmp-')) : [];
    expect(dirs).toHaveLength(1);
  }, 600_000);
});
