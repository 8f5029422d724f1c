import { readFileSync } from 'node:fs';
import Ajv2020Module from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { FastifyInstance } from 'fastify';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { OPENAPI_PATH } from '../../src/app.js';
import { api, startApp, tempDir, testConfig } from '../helpers/app.js';
import { AUTH, ingestSynthetic, waitForJob } from '../helpers/training.js';

type Schema = Record<string, unknown>;
type Spec = { paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: Schema; examples?: unknown }> }>; requestBody?: { content: Record<string, { examples?: unknown }> } }>> };

// CommonJS modules under NodeNext: the constructor and the plugin are the default export's default.
const Ajv2020 = Ajv2020Module.default;
const addFormats = addFormatsModule.default;

const spec = parse(readFileSync(OPENAPI_PATH, 'utf8')) as Spec;
let app: FastifyInstance;
let cleanup: () => void;

beforeAll(async () => {
  let dir: string;
  ({ dir, cleanup } = tempDir());
  app = await startApp(testConfig(dir, { MODEL_POLL_MS: '100' }));
});
afterAll(async () => {
  await app.close();
  cleanup();
});

const toOpenApiPath = (url: string) => url.replace(/:([A-Za-z_]+)/g, '{$1}');
const withoutExamples = (s: Spec) =>
  JSON.parse(JSON.stringify(s.paths, (key, value) => (key === 'examples' ? undefined : value))) as Spec['paths'];

describe('openapi.yaml', () => {
  it('documents exactly the routes Fastify serves', () => {
    const served = new Set(
      app.services.routes
        .filter((r) => !r.hidden && r.method !== 'HEAD' && !r.url.startsWith('/docs') && r.url !== '*')
        .map((r) => `${r.method} ${toOpenApiPath(r.url)}`),
    );
    const documented = new Set(Object.entries(spec.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`)));
    expect([...documented].sort()).toEqual([...served].sort());
  });

  it('is up to date with the routes\' schemas (run `npm run openapi` after changing a route)', () => {
    const live = app.swagger() as unknown as Spec;
    expect(withoutExamples(spec)).toEqual(withoutExamples(live));
  });

  it('marks every route but health checks with the key scope it needs, and carries examples', () => {
    for (const [path, ops] of Object.entries(spec.paths)) {
      for (const op of Object.values(ops) as { security?: unknown }[]) {
        if (path.startsWith('/admin')) expect(op.security, path).toEqual([{ apiKey: ['admin'] }]);
        else if (path === '/healthz' || path === '/readyz') expect(op.security, path).toEqual([]);
        else expect(op.security, path).toBeDefined();
      }
    }
    expect(spec.paths['/ratings'].post.requestBody?.content['application/json'].examples).toBeDefined();
    expect(spec.paths['/users/{id}/recommendations'].get.responses['200'].content?.['application/json'].examples).toBeDefined();
  });

  it('real responses validate against the documented schemas', async () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);
    const check = (method: string, template: string, res: request.Response) => {
      const op = spec.paths[template]?.[method];
      expect(op, `${method} ${template} documented`).toBeDefined();
      const documented = op.responses[String(res.status)];
      expect(documented, `${method} ${template} documents status ${res.status}`).toBeDefined();
      const schema = documented.content?.['application/json']?.schema;
      if (!schema) return;
      const validate = ajv.compile(schema);
      expect(validate(res.body), `${method} ${template} ${res.status}: ${ajv.errorsText(validate.errors)}`).toBe(true);
    };
    const s = app.server;
    check('get', '/healthz', await request(s).get('/healthz'));
    check('get', '/readyz', await request(s).get('/readyz'));
    check('post', '/ratings', await request(s).post('/ratings').send({ userId: 'a', itemId: 'x', rating: 4 }));
    check('post', '/ratings', await request(s).post('/ratings').send({ userId: 'a', itemId: 'x', rating: 40 }));
    check('post', '/events', await request(s).post('/events').send({ userId: 'a', itemId: 'y', type: 'click' }));
    check('get', '/users/{id}/history', await request(s).get('/users/a/history'));
    check('get', '/users/{id}/recommendations', await request(s).get('/users/a/recommendations'));
    check('get', '/users/{id}/recommendations', await request(s).get('/users/a/recommendations?limit=0'));
    check('get', '/items/{id}/similar', await request(s).get('/items/x/similar'));
    check('get', '/items/{id}/similar', await request(s).get('/items/nope/similar'));
    check('put', '/items/{id}', await request(s).put('/items/x').send({ categories: ['c'] }));
    check('put', '/items', await request(s).put('/items').send({ items: [{ itemId: 'z' }] }));
    check('get', '/items/{id}', await request(s).get('/items/x'));
    check('delete', '/items/{id}', await request(s).delete('/items/z'));
    check('put', '/users/{id}', await request(s).put('/users/a').send({ labels: { k: 'v' } }));
    check('get', '/users/{id}', await request(s).get('/users/a'));
    await ingestSynthetic(app, 60, 80);
    const retrain = await request(s).post('/admin/retrain').set(AUTH).send({ model: 'gmf', epochs: 1, factors: 8 });
    check('post', '/admin/retrain', retrain);
    check('post', '/admin/retrain', await request(s).post('/admin/retrain').send({}));
    await waitForJob(app, retrain.body.jobId);
    check('get', '/admin/jobs/{id}', await request(s).get(`/admin/jobs/${retrain.body.jobId}`).set(AUTH));
    check('get', '/admin/jobs', await request(s).get('/admin/jobs').set(AUTH));
    check('delete', '/admin/jobs/{id}', await request(s).delete(`/admin/jobs/${retrain.body.jobId}`).set(AUTH));
    const models = await request(s).get('/admin/models').set(AUTH);
    check('get', '/admin/models', models);
    const v = models.body.models[0];
    check('post', '/admin/models/{model}/{version}/activate', await request(s).post(`/admin/models/${v.model}/${v.version}/activate`).set(AUTH));
    check('get', '/users/{id}/recommendations', await request(s).get('/users/u1/recommendations'));
  }, 600_000);

  it('is served at /openapi.yaml, with Swagger UI at /docs and Prometheus metrics at /metrics', async () => {
    const yaml = await api(app).get('/openapi.yaml');
    expect(yaml.status).toBe(200);
    expect(yaml.headers['content-type']).toMatch(/yaml/);
    expect(yaml.text).toBe(readFileSync(OPENAPI_PATH, 'utf8'));
    expect((await api(app).get('/docs/')).status).toBe(200);
    await api(app).get('/users/a/recommendations');
    const metrics = await api(app).get('/metrics');
    expect(metrics.status).toBe(200);
    for (const name of ['process_cpu_seconds_total', 'nodejs_eventloop_lag_seconds', 'recflow_http_request_duration_seconds_bucket', 'recflow_ingested_total', 'recflow_recommendation_answers_total', 'recflow_active_model_info', 'recflow_active_model_metric', 'recflow_training_jobs', 'recflow_queue_depth', 'recflow_training_job_duration_seconds']) {
      expect(metrics.text, name).toContain(name);
    }
    expect(metrics.text).toMatch(/recflow_http_request_duration_seconds_bucket\{[^}]*route="\/users\/:id\/recommendations"/);
  });
});
