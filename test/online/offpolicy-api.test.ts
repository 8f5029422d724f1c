import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, startApp, tempDir, testConfig } from '../helpers/app.js';
import { AUTH, ingestSynthetic, until, waitForJob } from '../helpers/training.js';

let app: FastifyInstance;
let cleanup: () => void;

beforeAll(async () => {
  let dir: string;
  ({ dir, cleanup } = tempDir());
  app = await startApp(testConfig(dir, { MODEL_POLL_MS: '100', POPULARITY_REFRESH_MS: '100', EXPLORATION_SHARE: '0.3', EXPLORATION_POOL: '20', RECOMMENDATION_CACHE_SIZE: '0' }));
  await ingestSynthetic(app, 100, 120, 9);
  for (const model of ['pop', 'ials']) {
    const job = await waitForJob(app, (await api(app).post('/admin/retrain').set(AUTH).send({ model, epochs: 5 })).body.jobId, undefined, 120_000);
    expect(job.state, job.error ?? '').toBe('completed');
  }
  await api(app).post('/admin/serving').send({ model: 'pop' }).expect(200);
  await until(async () => (await api(app).get('/users/u1/recommendations')).body.model === 'pop', 15_000, 'pop serving');
}, 600_000);
afterAll(async () => {
  await app?.close();
  cleanup();
});

describe('exploration and the off-policy estimate', () => {
  it('draws some first-page slots from below the page, logs their propensities, and estimates another model from the logs', async () => {
    let explored = 0;
    for (let round = 0; round < 3; round++) {
      for (let u = 1; u <= 100; u++) {
        const a = (await api(app).get(`/users/u${u}/recommendations?limit=5`).expect(200)).body as { recommendationId: string; items: { itemId: string; source: string }[]; nextCursor: string | null };
        explored += a.items.filter((x) => x.source === 'explore').length;
        expect(new Set(a.items.map((x) => x.itemId)).size).toBe(5);
        // Click the first slot now and then, an explored one more often.
        const pick = a.items.find((x) => x.source === 'explore') ?? (u % 4 === 0 ? a.items[0] : undefined);
        if (pick) await api(app).post('/events').send({ userId: `u${u}`, itemId: pick.itemId, type: 'click', recommendationId: a.recommendationId }).expect(200);
      }
    }
    // 1,500 slots at 30%: about 450 explored.
    expect(explored).toBeGreaterThan(300);
    expect(explored).toBeLessThan(600);
    // A page asked for by offset is served as asked, without exploration.
    const second = (await api(app).get('/users/u1/recommendations?limit=5&offset=5').expect(200)).body as { items: { source: string }[] };
    expect(second.items.some((x) => x.source === 'explore')).toBe(false);
    await app.services.online.log!.flush();
    const logs = await app.services.online.deps.thread.explorationLogs(0, 1000);
    // The 300 above, and the requests that waited for pop to serve.
    expect(logs.length).toBeGreaterThanOrEqual(300);
    const propensities = new Set(logs.flatMap((l) => l.items.map((x) => x.propensity.toFixed(4))));
    expect([...propensities].sort()).toEqual(['0.0150', '0.7000']);

    const estimate = (await api(app).get('/admin/offpolicy?model=ials&limit=1000').expect(200)).body;
    expect(estimate).toMatchObject({ model: 'ials', impressions: logs.length, slots: logs.reduce((n, l) => n + l.items.length, 0) });
    expect(estimate.matchedSlots).toBeGreaterThan(0);
    expect(estimate.ctr).toBeGreaterThanOrEqual(0);
    expect(estimate.assumptions.length).toBeGreaterThan(2);
    // The logging policy's deterministic part, estimated from its own logs, is near its logged CTR on unexplored slots.
    const self = (await api(app).get('/admin/offpolicy?model=pop').expect(200)).body;
    expect(self.matchedSlots).toBeGreaterThan(500);
    await api(app).get('/admin/offpolicy?model=ease').expect(404);
  });
});
