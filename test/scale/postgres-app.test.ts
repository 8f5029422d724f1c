import { afterEach, describe, expect, it } from 'vitest';
import { api, startApp, tempDir, testConfig } from '../helpers/app.js';
import { privateSchema } from '../helpers/postgres.js';
import { ingestSynthetic, until, waitForJob } from '../helpers/training.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** The API on PostgreSQL in this process (embedded queue: training runs in a thread with its own pool). */
async function pgApp() {
  const { dir, cleanup } = tempDir();
  cleanups.push(cleanup);
  const { url, drop } = await privateSchema();
  cleanups.push(drop);
  const app = await startApp(testConfig(dir, { DATABASE_URL: url, MODEL_POLL_MS: '200', PG_POOL_SIZE: '4' }));
  cleanups.push(() => app.close());
  return app;
}

describe('the API on PostgreSQL', () => {
  it('ingests, keeps the catalogue, trains, serves and erases like on SQLite', async () => {
    const app = await pgApp();
    expect(app.services.database.backend).toBe('postgres');
    expect((await api(app).get('/readyz')).body).toEqual({ status: 'ready', problems: [] });
    const written = await ingestSynthetic(app, 60, 80);
    expect((await api(app).get('/admin/stats')).status).toBe(200);
    await api(app).put('/items/i1').send({ categories: ['drama'], labels: { year: '1999' } }).expect(200);
    expect((await api(app).get('/items?category=drama')).body.items.map((i: { itemId: string }) => i.itemId)).toEqual(['i1']);
    const job = await waitForJob(app, (await api(app).post('/admin/retrain').send({ model: 'gmf', epochs: 2, hyper: { factors: 8 } })).body.jobId);
    expect(job.state, JSON.stringify(job)).toBe('completed');
    expect(job.history?.length).toBeGreaterThan(0);
    await until(() => app.services.store.servingVersion === job.result?.version, 10_000, 'the new version serves');
    const recs = await api(app).get('/users/u1/recommendations?limit=5');
    expect(recs.status).toBe(200);
    expect(recs.body, JSON.stringify(recs.body)).toMatchObject({ model: 'gmf', source: 'model' });
    expect(recs.body.items).toHaveLength(5);
    const erased = await api(app).delete('/users/u1');
    expect(erased.status).toBe(200);
    expect(erased.body.erased.ratings + erased.body.erased.events).toBeGreaterThan(0);
    const counts = (await app.services.database.stats.counts());
    expect(counts.ratings + counts.events).toBeLessThan(written);
    const exported = await api(app).get('/admin/export/ratings');
    expect(exported.status).toBe(200);
    expect(exported.text.trim().split('\n').length).toBe(counts.ratings);
  }, 600_000);

  it('records impressions, attributes feedback and runs an experiment like on SQLite', async () => {
    const app = await pgApp();
    await ingestSynthetic(app, 40, 50);
    const id = (await api(app).post('/admin/experiments').send({ name: 'pg A/A', variants: [{ name: 'A' }, { name: 'B' }], minUsers: 2 }).expect(201)).body.id as string;
    await until(() => app.services.online.book.running?.id === id, 10_000, 'the experiment runs');
    for (let u = 1; u <= 20; u++) {
      const a = (await api(app).get(`/users/u${u}/recommendations?limit=5`).expect(200)).body as { recommendationId: string; items: { itemId: string }[]; experiment: { variant: string } };
      expect(['A', 'B']).toContain(a.experiment.variant);
      await api(app).post('/events').send({ userId: `u${u}`, itemId: a.items[u % 5].itemId, type: 'click', ...(u % 2 ? { recommendationId: a.recommendationId } : {}) }).expect(200);
    }
    await app.services.online.log!.flush();
    expect(await app.services.database.online.impressionCount()).toBeGreaterThanOrEqual(20);
    await app.services.online.monitor.refresh();
    const stats = (await api(app).get('/stats/online?by=variant').expect(200)).body as { totals: { variant: string; positiveSlots: number }[] };
    expect(stats.totals.reduce((n, t) => n + t.positiveSlots, 0)).toBe(20);
    const report = (await api(app).get(`/admin/experiments/${id}`).expect(200)).body;
    expect(report.report.variants.reduce((n: number, v: { users: number }) => n + v.users, 0)).toBe(20);
    expect((await api(app).post(`/admin/experiments/${id}/conclude`).send({}).expect(200)).body.status).toBe('concluded');
  }, 600_000);
});
