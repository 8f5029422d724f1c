import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { closeDb, openDb } from '../../src/db/sqlite/connection.js';
import { generateSynthetic } from '../../src/data/synthetic.js';
import { ADMIN_TOKEN, api, startApp, tempDir, testConfig, sqliteDb } from '../helpers/app.js';
import { exited, freePort, spawnEntry, waitForHttp } from '../helpers/processes.js';
import { AUTH, ingestSynthetic, REDIS_URL, until } from '../helpers/training.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function spawned(entry: string, env: Record<string, string>): ChildProcess {
  const child = spawnEntry(entry, env);
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited(child);
  });
  return child;
}

/** The job's row, read on a fresh connection (the processes that wrote it may be dead). */
function jobRow(databasePath: string, id: string): { state: string; attempts: number; error: string | null; progress: string | null } {
  const db = openDb(databasePath, { busyTimeoutMs: 2000 });
  try {
    return db.prepare('SELECT state, attempts, error, progress FROM jobs WHERE id = ?').get(id) as { state: string; attempts: number; error: string | null; progress: string | null };
  } finally {
    closeDb(db);
  }
}
const saving = (databasePath: string, id: string) => (JSON.parse(jobRow(databasePath, id).progress ?? '{}') as { phase?: string }).phase === 'saving';
const kill = async (child: ChildProcess) => {
  child.kill('SIGKILL');
  await exited(child);
};

describe('crashes count as attempts', () => {
  it('BullMQ: a worker killed in every attempt leaves the job failed after JOB_ATTEMPTS, with the reason, and it runs no more', async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const env = { DATABASE_PATH: join(dir, 'recflow.db'), MODEL_DIR: join(dir, 'models'), REDIS_URL, QUEUE_NAME: `crashes-${process.pid}-${Date.now()}`, JOB_LOCK_MS: '1000', JOB_ATTEMPTS: '2' };
    const app = await startApp(testConfig(dir, env));
    cleanups.push(() => app.close());
    await ingestSynthetic(app, 40, 60);
    // Each attempt pauses in its snapshot write, where it is killed.
    const stuck = { ...env, FAULT_SNAPSHOT_DELAY_MS: '60000' };
    const { jobId } = (await api(app).post('/admin/retrain').set(AUTH).send({ model: 'gmf', epochs: 1, factors: 4 })).body as { jobId: string };
    for (let attempt = 1; attempt <= 2; attempt++) {
      const w = spawned('src/worker.ts', stuck);
      await until(() => saving(env.DATABASE_PATH, jobId) && jobRow(env.DATABASE_PATH, jobId).attempts === attempt, 60_000, `attempt ${attempt} saving`);
      await kill(w);
    }
    spawned('src/worker.ts', env);
    await until(() => jobRow(env.DATABASE_PATH, jobId).state === 'failed', 60_000, 'the job to fail');
    expect(jobRow(env.DATABASE_PATH, jobId)).toMatchObject({ state: 'failed', attempts: 2, error: 'process died during attempt 2' });
    await new Promise((r) => setTimeout(r, 1500));
    expect(jobRow(env.DATABASE_PATH, jobId).attempts).toBe(2);
    expect(sqliteDb(app).prepare('SELECT COUNT(*) FROM models').pluck().get()).toBe(0);
  }, 600_000);

  it('embedded: a job that kills the API in every attempt fails after JOB_ATTEMPTS instead of crash-looping it', async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const port = await freePort();
    const env = { DATABASE_PATH: join(dir, 'recflow.db'), MODEL_DIR: join(dir, 'models'), ADMIN_TOKEN, PORT: String(port), JOB_ATTEMPTS: '2', FAULT_SNAPSHOT_DELAY_MS: '60000' };
    const base = `http://127.0.0.1:${port}`;
    const headers = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };
    let server = spawned('src/main.ts', env);
    await waitForHttp(`${base}/healthz`);
    const ratings = [...generateSynthetic({ users: 40, items: 60, density: 0.1, seed: 3 })].map((r) => ({ userId: r.user, itemId: r.item, rating: r.rating }));
    expect((await fetch(`${base}/ratings`, { method: 'POST', headers, body: JSON.stringify({ ratings }) })).status).toBe(200);
    const { jobId } = (await (await fetch(`${base}/admin/retrain`, { method: 'POST', headers, body: JSON.stringify({ model: 'gmf', epochs: 1, factors: 4 }) })).json()) as { jobId: string };

    for (let attempt = 1; attempt <= 2; attempt++) {
      await until(() => saving(env.DATABASE_PATH, jobId) && jobRow(env.DATABASE_PATH, jobId).attempts === attempt, 60_000, `attempt ${attempt} saving`);
      await kill(server);
      server = spawned('src/main.ts', env);
      await waitForHttp(`${base}/healthz`);
    }
    // The restart after the last allowed attempt settles it instead of running it a third time.
    expect(jobRow(env.DATABASE_PATH, jobId)).toMatchObject({ state: 'failed', attempts: 2, error: 'process died during attempt 2' });
    await new Promise((r) => setTimeout(r, 1500));
    expect(jobRow(env.DATABASE_PATH, jobId)).toMatchObject({ state: 'failed', attempts: 2 });
    const job = (await (await fetch(`${base}/admin/jobs/${jobId}`, { headers })).json()) as { state: string; error: string };
    expect(job).toMatchObject({ state: 'failed', error: 'process died during attempt 2' });
  }, 600_000);
});
