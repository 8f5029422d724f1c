/**
 * Writes openapi.yaml from the routes' own zod schemas (via @fastify/swagger), plus examples.
 * Run after changing a route: `npm run openapi`. test/api/openapi.test.ts fails when the file
 * and the registered routes disagree, or when a real response does not validate against it.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { stringify } from 'yaml';
import { buildApp, OPENAPI_PATH } from '../src/app.js';
import { loadConfig } from '../src/config.js';

type Operation = { requestBody?: { content?: Record<string, { examples?: unknown }> }; responses?: Record<string, { content?: Record<string, { examples?: unknown }> }> };
type Spec = { paths: Record<string, Record<string, Operation>> };

const requestExamples: Record<string, Record<string, unknown>> = {
  'POST /ratings': {
    one: { value: { userId: 'alice', itemId: 'movie-42', rating: 4.5, timestamp: '2026-11-24T09:00:00Z' } },
    batch: { value: { ratings: [{ userId: 'alice', itemId: 'movie-42', rating: 4.5 }, { userId: 'bob', itemId: 'movie-7', rating: 2 }] } },
  },
  'POST /events': {
    one: { value: { userId: 'alice', itemId: 'movie-42', type: 'click', eventId: 'c0ffee-1' } },
    batch: { value: { events: [{ userId: 'alice', itemId: 'movie-42', type: 'purchase', value: 1 }] } },
  },
  'PUT /items/{id}': { item: { value: { categories: ['drama', 'new'], availableFrom: '2026-12-01T00:00:00Z', labels: { language: 'fr' } } } },
  'PUT /items': { batch: { value: { items: [{ itemId: 'movie-42', categories: ['drama'] }, { itemId: 'movie-7', hidden: true }] } } },
  'PUT /users/{id}': { user: { value: { labels: { plan: 'premium' } } } },
  'POST /admin/retrain': {
    einmf: { value: { model: 'einmf', epochs: 20, factors: 64 } },
    neumf: { value: { model: 'neumf', hyper: { pretrain: true, alpha: 0.5 } } },
  },
};

const responseExamples: Record<string, Record<string, unknown>> = {
  'GET /users/{id}/recommendations': {
    model: {
      value: {
        userId: 'alice', model: 'einmf', modelVersion: '20261124-090000123-ab12', source: 'model', method: 'trained', ranker: 'learned',
        items: [{ itemId: 'movie-9', score: 0.93, source: 'model' }, { itemId: 'movie-3', score: 0.91, source: 'item-to-item' }],
        notes: [], nextCursor: 'c1.eyJvIjoyfQ', intraListSimilarity: 0.41, recommendationId: '5b2f8c1e-3d4a-4b6e-9f10-2a7c9d8e1f03', experiment: null,
      },
    },
    fallback: {
      value: {
        userId: 'new-user', model: 'popularity', modelVersion: null, source: 'fallback', method: 'popularity', ranker: 'priority',
        items: [{ itemId: 'movie-1', score: 12.5, source: 'popular' }], notes: [{ source: 'model', note: 'no trained model yet' }],
        nextCursor: null, intraListSimilarity: null, recommendationId: '0c9a4e77-1b2d-4f3a-8e5c-6d7f8a9b0c1d', experiment: null,
      },
    },
  },
  'GET /items/{id}/similar': {
    similar: { value: { itemId: 'movie-42', model: 'einmf', modelVersion: '20261124-090000123-ab12', source: 'model', items: [{ itemId: 'movie-43', score: 0.88, source: 'model' }], recommendationId: '7e1d2c3b-4a5f-4e6d-8c7b-9a0f1e2d3c4b' } },
  },
  'POST /ratings': { counts: { value: { inserted: 1, updated: 0, ignored: 0 } } },
  'POST /events': { retried: { value: { inserted: 0, updated: 0, ignored: 1 } } },
  'GET /users/{id}/history': {
    page: {
      value: {
        userId: 'alice',
        items: [
          { kind: 'event', itemId: 'movie-42', timestamp: '2026-11-24T09:05:00.000Z', type: 'click', value: 1, eventId: 'c0ffee-1' },
          { kind: 'rating', itemId: 'movie-42', timestamp: '2026-11-24T09:00:00.000Z', rating: 4.5 },
        ],
        nextCursor: 'MTc5NjE5MzQxMDAwMDo0Mg',
      },
    },
  },
  'GET /items/{id}': {
    item: { value: { itemId: 'movie-42', categories: ['drama', 'new'], hidden: false, availableFrom: '2026-12-01T00:00:00.000Z', availableUntil: null, labels: { title: 'The Answer', image: 'https://img.example.org/movie-42.jpg' }, createdAt: '2026-11-24T09:00:00.000Z', updatedAt: null } },
  },
  'POST /admin/keys': {
    created: { value: { id: 3, name: 'web-shop', prefix: 'rf_7Qm2', scopes: ['read', 'write'], requestsPerMinute: 600, bytesPerMinute: null, createdAt: '2026-11-24T09:00:00.000Z', lastUsedAt: null, revokedAt: null, key: 'rf_7Qm2Vb0cX9kE4tL1pZs8Wq3yHn6Ja5Dr' } },
  },
  'POST /admin/import/{kind}': { imported: { value: { kind: 'ratings', lines: 100000, written: 100000 } } },
  'DELETE /users/{id}': { erased: { value: { userId: 'alice', erased: { ratings: 42, events: 310 } } } },
};

const dir = mkdtempSync(join(tmpdir(), 'recflow-openapi-'));
try {
  const config = loadConfig({ DATABASE_PATH: join(dir, 'db.sqlite'), MODEL_DIR: join(dir, 'models'), ADMIN_TOKEN: 'x'.repeat(32), LOG_LEVEL: 'silent' });
  const app = await buildApp(config, { logger: pino({ level: 'silent' }) });
  await app.ready();
  const spec = app.swagger() as unknown as Spec;
  for (const [key, examples] of Object.entries(requestExamples)) {
    const [method, path] = key.split(' ');
    const content = spec.paths[path]?.[method.toLowerCase()]?.requestBody?.content?.['application/json'];
    if (!content) throw new Error(`no request body for ${key}`);
    content.examples = examples;
  }
  for (const [key, examples] of Object.entries(responseExamples)) {
    const [method, path] = key.split(' ');
    const responses = spec.paths[path]?.[method.toLowerCase()]?.responses ?? {};
    const success = Object.keys(responses).find((status) => status.startsWith('2'));
    const content = success ? responses[success]?.content?.['application/json'] : undefined;
    if (!content) throw new Error(`no JSON success answer for ${key}`);
    content.examples = examples;
  }
  writeFileSync(OPENAPI_PATH, `# Generated by \`npm run openapi\` from the routes' zod schemas. Do not edit by hand.\n${stringify(spec, { aliasDuplicateObjects: false })}`);
  await app.close();
  process.stdout.write(`wrote ${OPENAPI_PATH}: ${Object.keys(spec.paths).length} paths\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
