import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { OPENAPI_PATH } from '../../src/app.js';
import { Recflow, RecflowError, type Rating } from '../../clients/typescript/src/index.js';
import { startServer, type RunningServer } from '../helpers/server.js';

/** Which operation a request was, by matching its path against the document's templates. */
const spec = parse(readFileSync(OPENAPI_PATH, 'utf8')) as { paths: Record<string, Record<string, { operationId: string }>> };
const templates = Object.entries(spec.paths).flatMap(([path, ops]) =>
  Object.entries(ops).map(([method, op]) => ({ method: method.toUpperCase(), pattern: new RegExp(`^${path.replace(/\{[^}]+\}/g, '[^/]+')}$`), id: op.operationId, literal: !path.includes('{') })),
);
const operationOf = (method: string, url: string): string | undefined => {
  const path = new URL(url).pathname;
  const matches = templates.filter((t) => t.method === method && t.pattern.test(path));
  return (matches.find((t) => t.literal) ?? matches[0])?.id;
};

let server: RunningServer;
const called = new Set<string>();
/** The real fetch, noting each operation that got an answer. */
const recordingFetch: typeof fetch = async (input, init) => {
  const response = await fetch(input, init);
  const id = operationOf(init?.method ?? 'GET', String(input));
  if (id) called.add(id);
  return response;
};

const ratings: Rating[] = [];
for (let u = 0; u < 60; u++) for (let i = 0; i < 40; i++) if ((u * 7 + i * 3) % 5 < 2) ratings.push({ userId: `u${u}`, itemId: `i${i}`, rating: 1 + ((u + i) % 5), timestamp: 1_700_000_000_000 + u * 1000 + i });

beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.stop();
});

describe('the TypeScript client against a live recflow', () => {
  it('calls every operation of openapi.yaml, with typed answers and typed errors', async () => {
    const admin = new Recflow({ baseUrl: server.base, apiKey: server.adminToken, fetch: recordingFetch, batchSize: 500 });
    expect(await admin.health()).toEqual({ status: 'ok' });
    expect((await admin.ready()).status).toBe('ready');

    const created = await admin.createKey({ name: 'client-test', scopes: ['read', 'write'] });
    const app = new Recflow({ baseUrl: server.base, apiKey: created.key, fetch: recordingFetch, batchSize: 500 });
    expect((await admin.listKeys()).keys.map((k) => k.name)).toContain('client-test');

    expect(await app.putItems(Array.from({ length: 40 }, (_, i) => ({ itemId: `i${i}`, categories: [i % 2 ? 'odd' : 'even'], labels: { title: `Item ${i}` } })))).toMatchObject({ inserted: 40 });
    expect((await app.putItem('new-item', { categories: ['odd'], labels: { title: 'Brand new' } })).itemId).toBe('new-item');
    expect((await app.getItem('i3')).labels).toEqual({ title: 'Item 3' });
    expect((await app.listItems({ q: 'i1', limit: 5 })).items.map((i) => i.itemId)).toEqual(['i1', 'i10', 'i11', 'i12', 'i13']);

    // 2,400-odd ratings in batches of 500; the counts are summed over the batches.
    expect(await app.addRatings(ratings)).toEqual({ inserted: ratings.length, updated: 0, ignored: 0 });
    expect(await app.addRatings(ratings[0])).toMatchObject({ inserted: 0 });
    expect(await app.addEvents([{ userId: 'u1', itemId: 'i2', type: 'click', eventId: 'ev-1' }, { userId: 'u1', itemId: 'i5', type: 'view', eventId: 'ev-2' }])).toMatchObject({ inserted: 2 });
    expect((await app.putUser('u1', { labels: { plan: 'pro' } })).labels).toEqual({ plan: 'pro' });
    expect((await app.getUser('u1')).labels).toEqual({ plan: 'pro' });
    expect((await app.listUsers({ q: 'u1', limit: 3 })).users.map((u) => u.userId)).toEqual(['u1', 'u10', 'u11']);
    expect((await app.getUserHistory('u1', { limit: 2 })).items).toHaveLength(2);

    for (const request of [{ model: 'ease' }, { model: 'ials', epochs: 3, factors: 8 }] as const) {
      const { jobId } = await admin.retrain(request);
      expect((await admin.waitForJob(jobId, { intervalMs: 200 })).state).toBe('completed');
    }
    expect((await admin.getJob((await admin.listJobs({ limit: 1 })).jobs[0].id)).state).toBe('completed');
    const versions = (await admin.listModels()).models;
    const ials = versions.find((v) => v.model === 'ials')!;
    expect((await admin.activateModel('ials', ials.version)).active).toBe(true);
    expect((await admin.setServing({ model: 'ials' })).mode).toBe('pinned');
    expect((await admin.getServing()).model).toBe('ials');
    await expect.poll(async () => (await app.getRecommendations('u2')).modelVersion).toBe(ials.version);

    const answer = await app.getRecommendations('u2', { limit: 5, explain: true, exclude_seen: true });
    expect(answer.items.length).toBe(5);
    expect(answer.recommendationId).toMatch(/^[0-9a-f-]{36}$/);
    expect(await app.reportShown(answer)).toMatchObject({ accepted: 1 });
    expect(await app.feedback(answer, { userId: 'u2', itemId: answer.items[0].itemId, type: 'click' })).toMatchObject({ inserted: 1 });
    expect((await app.getSimilarItems('i3', { limit: 3 })).items).toHaveLength(3);
    expect((await app.getSimilarUsers('u2', { limit: 3 })).users).toHaveLength(3);
    expect((await app.recommendForSession({ items: ['i1', 'i2'] }, { limit: 3 })).items).toHaveLength(3);
    expect((await app.getPopular({ limit: 3 })).name).toBe('popular');
    expect((await app.getLeaderboard('popular', { limit: 3 })).name).toBe('popular');
    expect((await app.getLatest({ limit: 2 })).items).toHaveLength(2);

    expect((await admin.getStats()).counts.ratings).toBeTypeOf('number');
    expect((await admin.getIngestStats({ bucket: 'day' })).bucket).toBe('day');
    expect(await admin.getServingStats()).toHaveProperty('series');
    expect(await admin.getPipelineStats()).toHaveProperty('sources');
    expect(await admin.getOnlineStats({ days: 7 })).toHaveProperty('totals');
    expect(await admin.getConfig()).toBeTypeOf('object');

    const experiment = await admin.createExperiment({ name: 'ease-vs-ials', variants: [{ name: 'ease', model: 'ease' }, { name: 'ials', model: 'ials' }] });
    expect((await admin.listExperiments()).experiments.map((e) => e.id)).toContain(experiment.id);
    expect((await admin.getExperiment(experiment.id)).name).toBe('ease-vs-ials');
    expect((await admin.stopExperiment(experiment.id)).stoppedAt).not.toBeNull();
    expect((await admin.concludeExperiment(experiment.id, { winner: 'ials' })).winner).toBe('ials');
    expect((await admin.promoteVariant(experiment.id, { variant: 'ials' })).id).toBe(experiment.id);
    // Nothing was explored yet: the estimate is refused, as a typed error naming why.
    const offPolicy = await admin.estimateOffPolicy({ model: 'ease' }).then(
      (ok) => ok,
      (err: unknown) => err,
    );
    if (offPolicy instanceof RecflowError) expect([404, 409]).toContain(offPolicy.status);
    else expect(offPolicy).toHaveProperty('matchedSlots');

    const { jobId: long } = await admin.retrain({ model: 'einmf', epochs: 500, factors: 8, force: true });
    expect(['cancelled', 'active', 'queued']).toContain((await admin.cancelJob(long)).state);

    await app.deleteRating('u0', String(ratings.find((r) => r.userId === 'u0')!.itemId));
    await app.deleteEvent('ev-2');
    expect((await app.hideItem('new-item')).hidden).toBe(true);
    expect(await admin.eraseUser('u59')).toMatchObject({ userId: 'u59' });
    expect((await admin.revokeKey(created.id)).revokedAt).not.toBeNull();

    const unknown = await admin.getUser('nobody-at-all').catch((err: unknown) => err);
    expect(unknown).toBeInstanceOf(RecflowError);
    expect(unknown).toMatchObject({ status: 404, code: 'not_found' });
    expect((unknown as RecflowError).field('params.id')).toBeDefined();
    const invalid = await admin.addRatings({ userId: 'u1', itemId: 'i1', rating: 50 }).catch((err: unknown) => err);
    expect(invalid).toMatchObject({ status: 400, code: 'validation_failed' });
    expect((invalid as RecflowError).field('body.rating')?.message).toMatch(/between/);

    // Every operation but the bulk streams (their own test below) answered at least once.
    const all = templates.map((t) => t.id).filter((id) => id !== 'importRows' && id !== 'exportRows');
    expect(all.filter((id) => !called.has(id))).toEqual([]);
  });

  it('iterates cursor listings and a whole history, each row once', async () => {
    const client = new Recflow({ baseUrl: server.base, apiKey: server.adminToken });
    const items: string[] = [];
    for await (const item of client.iterateItems({ limit: 7 })) items.push(item.itemId);
    expect(items).toHaveLength(new Set(items).size);
    expect(new Set(items)).toEqual(new Set([...Array.from({ length: 40 }, (_, i) => `i${i}`), 'new-item']));
    const users: string[] = [];
    for await (const user of client.iterateUsers({ limit: 9 })) users.push(user.userId);
    expect(users).toHaveLength(new Set(users).size);
    expect(users).toContain('u1');
    const history: string[] = [];
    for await (const entry of client.iterateHistory('u3', { limit: 4 })) history.push(`${entry.kind}:${entry.itemId}`);
    expect(history.sort()).toEqual(ratings.filter((r) => r.userId === 'u3').map((r) => `rating:${r.itemId}`).sort());
  });

  it('round-trips NDJSON: the export of one server imported into another is the same rows', async () => {
    const source = new Recflow({ baseUrl: server.base, apiKey: server.adminToken });
    const target = await startServer();
    try {
      const into = new Recflow({ baseUrl: target.base, apiKey: target.adminToken });
      for (const kind of ['items', 'users', 'ratings', 'events'] as const) {
        const rows = [];
        for await (const row of source.exportRows(kind)) rows.push(row);
        expect(rows.length, kind).toBeGreaterThan(0);
        // Streamed from an async generator: the body is produced as fetch sends it.
        const result = await into.importRows(kind, (async function* () {
          yield* rows;
        })());
        expect(result, kind).toEqual({ kind, lines: rows.length, written: rows.length });
        const copied = [];
        for await (const row of into.exportRows(kind)) copied.push(row);
        const strip = (r: Record<string, unknown>) => ({ ...r, cursor: undefined, createdAt: undefined });
        expect(copied.map(strip), kind).toEqual(rows.map(strip));
      }
    } finally {
      await target.stop();
    }
  });
});
