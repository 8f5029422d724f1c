import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { closeDb, openDb } from '../../src/db/sqlite/connection.js';
import { migrate } from '../../src/db/sqlite/migrate.js';
import { createModelsRepository } from '../../src/db/sqlite/models.js';
import { type ModelsRepository } from '../../src/db/models-repository.js';
import { DEFAULT_MIGRATIONS_DIR } from '../../src/config.js';
import { promotionPolicy } from '../../src/train/promotion.js';
import { api, startApp, tempDir, testConfig } from '../helpers/app.js';
import { AUTH, ingestSynthetic, waitForJob } from '../helpers/training.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function repository(): ModelsRepository {
  const { dir, cleanup } = tempDir();
  const db = openDb(`${dir}/r.db`);
  migrate(db, DEFAULT_MIGRATIONS_DIR);
  cleanups.push(() => {
    closeDb(db);
    cleanup();
  });
  return createModelsRepository(db);
}

let seq = 0;
async function register(models: ModelsRepository, model: string, validHr10: number, options: { force?: boolean; split?: string } = {}) {
  const version = `v${++seq}`;
  const manifest = { training: { data: { split: options.split ?? 'loo', seed: 42 } } };
  return { version, ...(await models.register({ model, version, path: `/nowhere/${version}`, validHr10, metrics: {}, manifest, jobId: null }, promotionPolicy({ tolerance: 0.01, force: options.force ?? false }), Date.now() + seq)) };
}
const serving = async (models: ModelsRepository) => `${(await models.servingChoice()).model}@${(await models.servingVersion())?.version}`;

describe('promotion across model types (SERVING_MODEL=auto)', () => {
  it('keeps the better model serving: a worse model or a baseline never displaces it; a clearly better one does; force always does', async () => {
    const models = repository();
    const gmf = await register(models, 'gmf', 0.725);
    expect(gmf).toMatchObject({ promoted: true, serving: true });
    // The sequence: BPR (0.700) and then pop (0.40) each took all default traffic.
    const bpr = await register(models, 'bpr', 0.7);
    expect(bpr).toMatchObject({ promoted: true, serving: false });
    expect(bpr.servingReason).toMatch(/does not beat the serving gmf/);
    expect(await register(models, 'pop', 0.4)).toMatchObject({ promoted: true, serving: false });
    expect(await serving(models)).toBe(`gmf@${gmf.version}`);
    // Within the tolerance is not enough to switch types; beating it by the tolerance is.
    expect(await register(models, 'ease', 0.73)).toMatchObject({ promoted: true, serving: false });
    const ials = await register(models, 'ials', 0.74);
    expect(ials).toMatchObject({ serving: true });
    expect(await serving(models)).toBe(`ials@${ials.version}`);
    // A fresher version of the serving model replaces it when about as good (fresher data)...
    const ials2 = await register(models, 'ials', 0.735);
    expect(ials2).toMatchObject({ promoted: true, serving: true });
    // ...but a much worse one is not even activated.
    expect(await register(models, 'ials', 0.6)).toMatchObject({ promoted: false, serving: false });
    expect(await serving(models)).toBe(`ials@${ials2.version}`);
    // Versions validated on another split are not compared.
    expect((await register(models, 'dmf', 0.99, { split: 'ratio' })).servingReason).toMatch(/validated differently/);
    // force serves whatever it is.
    const forced = await register(models, 'pop', 0.1, { force: true });
    expect(forced).toMatchObject({ promoted: true, serving: true });
    expect(await serving(models)).toBe(`pop@${forced.version}`);
  });

  it('a baseline cannot take over on a tie even with no tolerance', async () => {
    const models = repository();
    await register(models, 'gmf', 0.5);
    const pop = await models.register({ model: 'pop', version: 'p1', path: '/p', validHr10: 0.5, metrics: {}, manifest: {}, jobId: null }, promotionPolicy({ tolerance: 0, force: false }), Date.now());
    expect(pop.serving).toBe(false);
  });

  it('a pinned model keeps serving whatever else is trained', async () => {
    const models = repository();
    const gmf = await register(models, 'gmf', 0.5);
    await models.setServing({ mode: 'pinned', model: 'gmf', setBy: 'test' }, Date.now());
    expect(await register(models, 'ials', 0.9)).toMatchObject({ promoted: true, serving: false, servingReason: 'serving is pinned to gmf' });
    expect(await serving(models)).toBe(`gmf@${gmf.version}`);
  });
});

describe('choosing what serves', () => {
  async function trained(): Promise<{ app: FastifyInstance; dir: string }> {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const app = await startApp(testConfig(dir, { MODEL_POLL_MS: '100' }));
    cleanups.push(() => app.close());
    await ingestSynthetic(app, 80, 100);
    for (const body of [{ model: 'gmf', epochs: 3, factors: 8, lr: 0.01 }, { model: 'pop' }]) {
      const job = await waitForJob(app, (await api(app).post('/admin/retrain').set(AUTH).send(body)).body.jobId);
      expect(job.state, JSON.stringify(job)).toBe('completed');
    }
    return { app, dir };
  }
  const answeredBy = async (app: FastifyInstance) => (await api(app).get('/users/u1/recommendations')).body.model as string;

  it('serves the better model after a worse baseline trains; POST /admin/serving pins and returns to auto; SERVING_MODEL pins at start', async () => {
    const { app, dir } = await trained();
    expect((await api(app).get('/admin/serving')).body).toMatchObject({ mode: 'auto', model: 'gmf' });
    expect(await answeredBy(app)).toBe('gmf');

    const pinned = await api(app).post('/admin/serving').send({ model: 'pop' });
    expect(pinned.status).toBe(200);
    expect(pinned.body).toMatchObject({ mode: 'pinned', model: 'pop', setBy: 'admin' });
    expect(pinned.body.loadedVersion).toBe(pinned.body.version);
    expect(await answeredBy(app)).toBe('pop');
    expect((await api(app).post('/admin/serving').send({ model: 'ials' })).status).toBe(404);
    expect((await api(app).post('/admin/serving').send({ model: 'gmf', version: 'nope' })).body.details[0].path).toBe('body.version');

    const auto = await api(app).post('/admin/serving').send({ model: 'auto' });
    expect(auto.body).toMatchObject({ mode: 'auto', model: 'gmf' });
    expect(await answeredBy(app)).toBe('gmf');
    // Per request, any active model still answers.
    expect((await api(app).get('/users/u1/recommendations?model=pop')).body.model).toBe('pop');
    const metrics = (await api(app).get('/metrics')).text;
    expect(metrics).toMatch(/recflow_recommendation_answers_total\{route="recommendations",source="model",model="gmf",method="trained"\}/);
    await app.close();

    const restarted = await startApp(testConfig(dir, { SERVING_MODEL: 'pop', MODEL_POLL_MS: '100' }));
    cleanups.push(() => restarted.close());
    expect((await api(restarted).get('/admin/serving')).body).toMatchObject({ mode: 'pinned', model: 'pop', setBy: 'SERVING_MODEL' });
    expect(await answeredBy(restarted)).toBe('pop');
  }, 600_000);
});
