import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterEach, expect, it } from 'vitest';
import { generateSynthetic } from '../../src/data/synthetic.js';
import { ADMIN_TOKEN, tempDir } from '../helpers/app.js';
import { privateSchema } from '../helpers/postgres.js';
import { freePort, spawnEntry, waitForHttp } from '../helpers/processes.js';
import { startLocalS3 } from '../helpers/s3.js';
import { until } from '../helpers/training.js';

const children: ChildProcess[] = [];
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const c of cleanups.splice(0).reverse()) await c();
});

const auth = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };

it('a replica with an empty MODEL_DIR serves the version another process trained and stored in S3, and drops its copy once a newer one serves', async () => {
  const { dir, cleanup } = tempDir();
  cleanups.push(cleanup);
  const s3 = await startLocalS3();
  cleanups.push(() => s3.stop());
  const { url, drop } = await privateSchema('s3rep');
  cleanups.push(drop);
  const shared = { DATABASE_URL: url, ADMIN_TOKEN, DATA_DIR: dir, SNAPSHOT_URL: `s3://${s3.bucket}/deploy`, SNAPSHOT_S3_ENDPOINT: s3.endpoint, AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', MODEL_POLL_MS: '500' };
  const start = async (name: string) => {
    const port = await freePort();
    const child = spawnEntry('src/main.ts', { ...shared, MODEL_DIR: join(dir, `models-${name}`), PORT: String(port) });
    children.push(child);
    const base = `http://127.0.0.1:${port}`;
    await waitForHttp(`${base}/readyz`);
    return base;
  };
  // The trainer: in-process jobs, so it writes the snapshot and stores it in the bucket.
  const trainer = await start('trainer');
  const ratings = [...generateSynthetic({ users: 60, items: 80, density: 0.1, seed: 5 })].map((r) => ({ userId: r.user, itemId: r.item, rating: r.rating, timestamp: r.ts }));
  expect((await fetch(`${trainer}/ratings`, { method: 'POST', headers: auth, body: JSON.stringify({ ratings }) })).status).toBe(200);
  const train = async (): Promise<string> => {
    const job = (await (await fetch(`${trainer}/admin/retrain`, { method: 'POST', headers: auth, body: JSON.stringify({ model: 'ease', force: true }) })).json()) as { jobId: string };
    let done = '';
    await until(async () => {
      const view = (await (await fetch(`${trainer}/admin/jobs/${job.jobId}`, { headers: auth })).json()) as { state: string; result?: { version: string } };
      expect(view.state).not.toBe('failed');
      done = view.result?.version ?? '';
      return view.state === 'completed';
    }, 300_000, 'training job');
    return done;
  };
  const version = await train();
  const objects = (await s3.client.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: `deploy/ease/${version}/` }))).Contents ?? [];
  expect(objects.map((o) => o.Key)).toContain(`deploy/ease/${version}/manifest.json`);

  // Another process, nothing shared with the trainer but the database and the bucket.
  const replica = await start('replica');
  const serves = (wanted: string) => async () => ((await (await fetch(`${replica}/users/${ratings[0].userId}/recommendations`, { headers: auth })).json()) as { modelVersion: string | null }).modelVersion === wanted;
  await until(serves(version), 300_000, 'the replica serving the stored version');
  expect(existsSync(join(dir, 'models-replica', 'ease', version, 'manifest.json'))).toBe(true);

  // A newer version replaces it: the replica's download of the old one is dropped, not kept forever.
  const next = await train();
  await until(serves(next), 300_000, 'the replica serving the newer version');
  await until(() => !existsSync(join(dir, 'models-replica', 'ease', version)), 120_000, 'the old local copy removed');
});
