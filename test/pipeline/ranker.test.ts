import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pipelineSchema } from '../../src/config/pipeline.js';
import { buildInteractions, InteractionsBuilder, type RawInteraction } from '../../src/data/interactions.js';
import { leaveOneOutSplit } from '../../src/data/split.js';
import { Rng } from '../../src/data/rng.js';
import { initBackend } from '../../src/models/backend.js';
import { PipelineJob } from '../../src/train/pipeline-job.js';
import { trainModel } from '../../src/train/trainer.js';
import { api, startApp, tempDir, testConfig } from '../helpers/app.js';
import { AUTH, until, waitForJob } from '../helpers/training.js';

/**
 * Two teams of users, each liking the items of its own category: a popularity model cannot tell
 * them apart, a ranker that crosses user labels with item categories can.
 */
function teams(users: number, items: number, perUser: number, seed: number): { rows: RawInteraction[]; team: (u: number) => 'a' | 'b'; category: (i: number) => 'a' | 'b' } {
  const rng = new Rng(seed);
  const team = (u: number): 'a' | 'b' => (u % 2 ? 'a' : 'b');
  const category = (i: number): 'a' | 'b' => (i % 2 ? 'a' : 'b');
  const rows: RawInteraction[] = [];
  const start = Date.UTC(2025, 0, 1);
  for (let u = 0; u < users; u++) {
    const picked = new Set<number>();
    while (picked.size < perUser) {
      // Popularity skew inside each category, so popularity is a real (but team-blind) signal.
      const i = Math.floor(items * rng.next() ** 2);
      if (category(i) === team(u) || rng.next() < 0.1) picked.add(i);
    }
    [...picked].forEach((i, k) => rows.push({ user: `u${u}`, item: `i${i}`, rating: 5, ts: start + k * 60_000 + u }));
  }
  return { rows, team, category };
}

const PIPELINE = { blend: ['model', 'popular'], fallback: ['latest'], ranker: { type: 'learned', factors: 4, epochs: 20, userLabels: ['team'] } };

describe('the learned ranker', () => {
  let app: FastifyInstance;
  let cleanup: () => void;
  const data = teams(300, 60, 12, 1);
  beforeAll(async () => {
    let dir: string;
    ({ dir, cleanup } = tempDir());
    const file = `${dir}/recflow.yaml`;
    (await import('node:fs')).writeFileSync(file, `pipeline: ${JSON.stringify(PIPELINE)}\n`);
    app = await startApp(testConfig(dir, { RECFLOW_CONFIG: file, MODEL_POLL_MS: '100', POPULARITY_REFRESH_MS: '100' }));
    await api(app).post('/ratings').send({ ratings: data.rows.map((r) => ({ userId: r.user, itemId: r.item, rating: r.rating, timestamp: r.ts })) }).expect(200);
    for (let u = 0; u < 300; u++) await api(app).put(`/users/u${u}`).send({ labels: { team: data.team(u) } }).expect(200);
    await api(app).put('/items').send({ items: Array.from({ length: 60 }, (_, i) => ({ itemId: `i${i}`, categories: [data.category(i)] })) }).expect(200);
  }, 600_000);
  afterAll(async () => {
    await app.close();
    cleanup();
  });

  it('is kept when it beats the model alone on validation, and then orders what serving answers', async () => {
    const job = await waitForJob(app, (await api(app).post('/admin/retrain').set(AUTH).send({ model: 'pop' })).body.jobId);
    expect(job.state, job.error ?? '').toBe('completed');
    const report = (job.result as unknown as { pipeline: { ranker: string; kept: boolean; valid: { model: Record<string, number>; ranker: Record<string, number> }; test: Record<string, number> } }).pipeline;
    expect(report.kept).toBe(true);
    expect(report.ranker).toBe('learned');
    expect(report.valid.ranker['HR@10']).toBeGreaterThan(report.valid.model['HR@10']);
    expect(report.test['HR@10']).toBeGreaterThan((job.result!.metrics as unknown as { test: Record<string, number> }).test['HR@10']);
    await until(async () => (await api(app).get('/users/u1/recommendations')).body.model === 'pop', 15_000, 'pop serving');
    for (const user of ['u1', 'u2']) {
      const answer = (await api(app).get(`/users/${user}/recommendations?limit=10`)).body as { ranker: string; items: { itemId: string }[] };
      expect(answer.ranker).toBe('learned');
      const own = answer.items.filter((x) => data.category(Number(x.itemId.slice(1))) === data.team(Number(user.slice(1)))).length;
      expect(own, `${user}: ${answer.items.map((x) => x.itemId).join(',')}`).toBeGreaterThanOrEqual(8);
    }
  }, 600_000);
});

describe('fitting the ranker', () => {
  it('never reads a test interaction: data differing only in its test items fit the same ranker', async () => {
    const backend = await initBackend('cpu');
    const base = teams(200, 40, 10, 2);
    const d1 = buildInteractions(base.rows, 5);
    // Each user's latest interaction (the test item) swapped for another item, same time.
    const split = leaveOneOutSplit(d1);
    const test = new Map(Array.from(split.test.user, (u, k) => [d1.userIds[u], d1.itemIds[split.test.item[k]]]));
    const rows2 = base.rows.map((r) => {
      if (test.get(r.user) !== r.item) return r;
      const mine = new Set(base.rows.filter((x) => x.user === r.user).map((x) => x.item));
      const other = Array.from({ length: 40 }, (_, i) => `i${(Number(r.item.slice(1)) + 7 + i) % 40}`).find((id) => !mine.has(id))!;
      return { ...r, item: other };
    });
    const d2 = buildInteractions(rows2, 5);
    const pipeline = pipelineSchema.parse(PIPELINE);
    // Every user and item registered first, in one order: both data sets get the same dense ids.
    const build = (rows: RawInteraction[]) => {
      const b = new InteractionsBuilder();
      for (let u = 0; u < 200; u++) b.userId(`u${u}`);
      for (let i = 0; i < 40; i++) b.itemId(`i${i}`);
      for (const r of rows) b.add(r);
      return b.build(5);
    };
    const fit = async (rows: RawInteraction[]) => {
      const data = build(rows);
      const facts = { categoriesOf: (id: string) => [base.category(Number(id.slice(1)))], labelsOf: () => ({}), userLabelsOf: (id: string) => ({ team: base.team(Number(id.slice(1))) }) };
      const job = new PipelineJob(data, pipeline, facts, { annMinItems: 0 });
      const { model, result } = await trainModel(data, { model: 'pop', seed: 3 }, backend, { onEvaluated: job.onEvaluated });
      return { ranker: (await job.artifactsFor(model)).artifacts.ranker, test: result.test, items: data.itemIds };
    };
    const [a, b] = [await fit(base.rows), await fit(rows2)];
    expect(a.ranker).not.toBeNull();
    expect(b.items).toEqual(a.items);
    expect(JSON.stringify(b.ranker)).toBe(JSON.stringify(a.ranker));
    // The test metrics do read the test items: the two data sets really differ there.
    expect(d2.item).not.toEqual(d1.item);
  }, 600_000);
});
