import { describe, expect, it } from 'vitest';
import { DuplicateKeyNameError } from '../../src/db/keys-repository.js';
import { JobVersionExists, type ModelsRepository } from '../../src/db/models-repository.js';
import type { StoreChange } from '../../src/db/store.js';
import { promotionPolicy } from '../../src/train/promotion.js';
import { BACKENDS, storePerTest } from '../helpers/backends.js';
import { until } from '../helpers/training.js';

const version = (model: string, v: string, validHr10: number, jobId: string | null = null) => ({
  model,
  version: v,
  path: `/snapshots/${model}/${v}`,
  validHr10,
  metrics: { valid: { 'HR@10': validHr10 } },
  manifest: { training: { data: { split: 'loo', seed: 42 } } },
  jobId,
});
const policy = (force = false) => promotionPolicy({ tolerance: 0.01, force });
const servingNow = async (models: ModelsRepository) => `${(await models.servingChoice()).model}@${(await models.servingVersion())?.version}`;

describe.each(BACKENDS)('registry repositories on %s', (backend) => {
  const t = storePerTest(backend);

  it('jobs: one queued job per model, one running attempt per model, a bounded curve, the states', async () => {
    const { job, reused } = await t.store.jobs.createOrReuse('j1', 'gmf', { model: 'gmf' }, 10);
    expect(reused).toBe(false);
    expect(job).toMatchObject({ id: 'j1', model: 'gmf', state: 'queued', attempts: 0, request: { model: 'gmf' }, history: [] });
    expect((await t.store.jobs.createOrReuse('j2', 'gmf', {}, 11)).job.id).toBe('j1');
    await t.store.jobs.createOrReuse('j3', 'bpr', {}, 12);
    expect(await t.store.jobs.start('j1', 100, 1000)).toBe('started');
    expect(await t.store.jobs.start('j1', 200, 1000)).toBe('running');
    await t.store.jobs.createOrReuse('j4', 'gmf', {}, 13);
    expect(await t.store.jobs.start('j4', 300, 1000)).toBe('busy');
    await t.store.jobs.heartbeat('j1', 400);
    await t.store.jobs.progress('j1', { phase: 'training', epoch: 1 });
    await t.store.jobs.appendHistory('j1', { epoch: 1, loss: 0.5 });
    await t.store.jobs.appendHistory('j1', { epoch: 2, loss: 0.4 });
    const running = (await t.store.jobs.get('j1'))!;
    expect(running).toMatchObject({ state: 'active', attempts: 1, heartbeatAt: 400, progress: { phase: 'training', epoch: 1 }, history: [{ epoch: 1, loss: 0.5 }, { epoch: 2, loss: 0.4 }] });
    await t.store.jobs.complete('j1', { version: 'v1' }, 500);
    expect(await t.store.jobs.get('j1')).toMatchObject({ state: 'completed', result: { version: 'v1' }, finishedAt: 500 });
    expect(await t.store.jobs.start('j1', 600, 1000)).toBe('gone');
    await t.store.jobs.fail('j3', 'oops', false, 700);
    expect(await t.store.jobs.get('j3')).toMatchObject({ state: 'queued', error: 'oops', finishedAt: null });
    await t.store.jobs.markRequeued('j3', 'lost');
    expect(await t.store.jobs.get('j3')).toMatchObject({ requeued: 1, error: 'lost' });
    expect(await t.store.jobs.cancel('j3', 800)).toBe(true);
    expect(await t.store.jobs.cancel('j3', 800)).toBe(false);
    expect(await t.store.jobs.countByState()).toEqual({ queued: 1, active: 0, completed: 1, failed: 0, cancelled: 1 });
    expect((await t.store.jobs.list(10)).map((j) => j.id)).toEqual(['j4', 'j3', 'j1']);
    expect((await t.store.jobs.list(10, 'queued')).map((j) => j.id)).toEqual(['j4']);
    expect(await t.store.jobs.get('nope')).toBeUndefined();
  });

  it('models: promotion across types, pins, activation and retention', async () => {
    expect(await t.store.models.register(version('gmf', 'g1', 0.72, 'job-a'), policy(), 1)).toMatchObject({ promoted: true, serving: true, previous: null });
    const bpr = await t.store.models.register(version('bpr', 'b1', 0.7), policy(), 2);
    expect(bpr).toMatchObject({ promoted: true, serving: false });
    expect(bpr.servingReason).toMatch(/does not beat the serving gmf/);
    expect(await t.store.models.register(version('gmf', 'g2', 0.5), policy(), 3)).toMatchObject({ promoted: false, serving: false });
    expect(await servingNow(t.store.models)).toBe('gmf@g1');
    expect(await t.store.models.register(version('ials', 'i1', 0.8), policy(), 4)).toMatchObject({ promoted: true, serving: true });
    expect(await servingNow(t.store.models)).toBe('ials@i1');
    await expect(t.store.models.register(version('gmf', 'g3', 0.9, 'job-a'), policy(), 5)).rejects.toThrow(JobVersionExists);
    expect((await t.store.models.list('gmf')).map((v) => v.version)).toEqual(['g2', 'g1']);

    await t.store.models.setServing({ mode: 'pinned', model: 'gmf', setBy: 'test' }, 6);
    expect(await t.store.models.register(version('ials', 'i2', 0.85), policy(), 7)).toMatchObject({ promoted: true, serving: false, servingReason: 'serving is pinned to gmf' });
    expect(await t.store.models.servingChoice()).toEqual({ mode: 'pinned', model: 'gmf', setBy: 'test', updatedAt: 6 });
    expect(await t.store.models.activate('gmf', 'g2', 8)).toBe(true);
    expect(await t.store.models.activate('gmf', 'nope', 8)).toBe(false);
    expect(await servingNow(t.store.models)).toBe('gmf@g2');
    expect((await t.store.models.allActive()).map((v) => `${v.model}@${v.version}`).sort()).toEqual(['bpr@b1', 'gmf@g2', 'ials@i2']);
    expect(await t.store.models.get('gmf', 'g1')).toMatchObject({ active: false, validHr10: 0.72, metrics: { valid: { 'HR@10': 0.72 } }, jobId: 'job-a', createdAt: 1 });
    expect((await t.store.models.expendable('gmf', 1)).map((v) => v.version)).toEqual(['g1']);
    await t.store.models.remove('gmf', 'g1');
    await t.store.models.remove('gmf', 'g2'); // active: kept
    expect((await t.store.models.list('gmf')).map((v) => v.version)).toEqual(['g2']);
  });

  it('keys: hashed, one active name, revocation frees it, use is recorded', async () => {
    const key = { name: 'web', hash: 'h1', prefix: 'rf_abc', scopes: ['read' as const], requestsPerMinute: 60, bytesPerMinute: null };
    const created = await t.store.keys.create(key, 5);
    expect(created).toMatchObject({ name: 'web', prefix: 'rf_abc', scopes: ['read'], requestsPerMinute: 60, bytesPerMinute: null, createdAt: 5, lastUsedAt: null, revokedAt: null });
    await expect(t.store.keys.create({ ...key, hash: 'h2' }, 6)).rejects.toThrow(DuplicateKeyNameError);
    expect(await t.store.keys.findActiveByHash('h1')).toMatchObject({ id: created.id, hash: 'h1' });
    await t.store.keys.touch(new Map([[created.id, 50]]));
    await t.store.keys.touch(new Map([[created.id, 40]]));
    expect((await t.store.keys.list())[0].lastUsedAt).toBe(50);
    expect(await t.store.keys.revoke('web', 60)).toMatchObject({ id: created.id, revokedAt: 60 });
    expect(await t.store.keys.revoke(created.id, 61)).toBeUndefined();
    expect(await t.store.keys.findActiveByHash('h1')).toBeUndefined();
    expect(await t.store.keys.list()).toEqual([]);
    expect(await t.store.keys.list({ includeRevoked: true })).toHaveLength(1);
    expect((await t.store.keys.create({ ...key, hash: 'h3' }, 70)).name).toBe('web');
    expect(await t.store.keys.count()).toBe(2);
  });

  it('two processes on one database: racing job creations and starts, readiness, serving announcements', async () => {
    const other = await t.fx.open();
    const created = await Promise.all([t.store.jobs.createOrReuse('a', 'gmf', {}, 1), other.jobs.createOrReuse('b', 'gmf', {}, 1)]);
    expect(created.filter((c) => !c.reused)).toHaveLength(1);
    await t.store.jobs.createOrReuse('c', 'bpr', {}, 2);
    const gmf = created.find((c) => !c.reused)!.job.id;
    const started = await Promise.all([t.store.jobs.start(gmf, 10, 1000), other.jobs.start('c', 10, 1000)]);
    expect(started).toEqual(['started', 'started']);
    // d, queued once c runs, must wait for c whichever process starts it.
    expect((await other.jobs.createOrReuse('d', 'bpr', {}, 3)).reused).toBe(false);
    expect(await other.jobs.start('d', 11, 1000)).toBe('busy');
    expect(await t.store.readiness()).toEqual([]);

    // PostgreSQL tells the other processes (never the announcer itself); SQLite has no one to tell.
    const heard: StoreChange[] = [];
    const stop = await other.onChange((c) => heard.push(c));
    const own: StoreChange[] = [];
    const stopOwn = await t.store.onChange((c) => own.push(c));
    await t.store.announce({ kind: 'serving' });
    const many = Array.from({ length: 1500 }, (_, k) => `user-${k}-${'x'.repeat(20)}`);
    await t.store.announce({ kind: 'users', users: many });
    await t.store.announce({ kind: 'users', users: Array.from({ length: 2001 }, (_, k) => `u${k}`) });
    if (backend === 'postgres') {
      await until(() => heard.some((c) => c.kind === 'users' && c.users === 'all'), 5000, 'announcements heard');
      expect(heard[0]).toEqual({ kind: 'serving' });
      // Split to fit NOTIFY's 8,000 bytes, every user delivered once.
      const listed = heard.flatMap((c) => (c.kind === 'users' && c.users !== 'all' ? c.users : []));
      expect(listed).toEqual(many);
      expect(heard.filter((c) => c.kind === 'users').length).toBeGreaterThan(2);
    } else {
      await new Promise((r) => setTimeout(r, 200));
      expect(heard).toEqual([]);
    }
    expect(own).toEqual([]);
    await stop();
    await stopOwn();
  });
});
