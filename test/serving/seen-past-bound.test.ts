import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { api } from '../helpers/app.js';
import { appOnEngine, type Engine } from '../helpers/postgres.js';
import { until, waitForJob } from '../helpers/training.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const HISTORY_LIMIT = 8;

const appOn = (engine: Engine): Promise<FastifyInstance> => appOnEngine(engine, { MODEL_POLL_MS: '100', HISTORY_LIMIT: String(HISTORY_LIMIT), PROMOTE_TOLERANCE: '1', RECOMMENDATION_CACHE_TTL_MS: '0' }, cleanups);

/**
 * 40 items, item k liked by 40 − k of 60 ordinary users (popular first); a heavy user who rated
 * the 30 most popular long ago and clicked, then disliked, others since: far more than the
 * request reads (HISTORY_LIMIT 8).
 */
async function ingest(app: FastifyInstance): Promise<{ rated: Set<string> }> {
  const ratings = [];
  for (let u = 0; u < 60; u++) for (let k = 0; k < 40; k++) if (u < 40 - k) ratings.push({ userId: `u${u}`, itemId: `i${k}`, rating: 4, timestamp: 1_000_000 + u * 100 + k });
  const rated = new Set<string>();
  for (let k = 0; k < 30; k++) {
    ratings.push({ userId: 'heavy', itemId: `i${k}`, rating: 5, timestamp: 1_000 + k });
    rated.add(`i${k}`);
  }
  await api(app).post('/ratings').send({ ratings }).expect(200);
  // Many events on two items: newest history, so the 30 ratings lie past the bound.
  const events = Array.from({ length: 20 }, (_, n) => ({ userId: 'heavy', itemId: `i${30 + (n % 2)}`, type: 'click', timestamp: 2_000_000 + n }));
  await api(app).post('/events').send({ events }).expect(200);
  rated.add('i30').add('i31');
  return { rated };
}

const itemsOf = (body: { items: { itemId: string }[] }): string[] => body.items.map((x) => x.itemId);

describe.each(['sqlite', 'postgres'] as const)('seen items past the history bound (%s)', (engine) => {
  it('are never recommended, by the popularity fallback or a trained model, on any page', async () => {
    const app = await appOn(engine);
    const { rated } = await ingest(app);
    const before = (await api(app).get('/users/heavy/recommendations?limit=8').expect(200)).body;
    expect(itemsOf(before).filter((id) => rated.has(id))).toEqual([]);
    expect(itemsOf(before)).toEqual(['i32', 'i33', 'i34', 'i35', 'i36', 'i37', 'i38', 'i39']);

    const job = await waitForJob(app, (await api(app).post('/admin/retrain').send({ model: 'ease' }).expect(202)).body.jobId);
    expect(job.state, JSON.stringify(job)).toBe('completed');
    await until(() => app.services.store.current('ease')?.version === job.result?.version, 30_000, 'the EASE version serves');
    const first = (await api(app).get('/users/heavy/recommendations?limit=4&model=ease').expect(200)).body;
    expect(first.model).toBe('ease');
    const second = (await api(app).get(`/users/heavy/recommendations?limit=4&model=ease&cursor=${encodeURIComponent(first.nextCursor)}`).expect(200)).body;
    const shown = [...itemsOf(first), ...itemsOf(second)];
    expect(shown.filter((id) => rated.has(id))).toEqual([]);
    expect(new Set(shown)).toEqual(new Set(['i32', 'i33', 'i34', 'i35', 'i36', 'i37', 'i38', 'i39']));
  }, 600_000);

  it('keep old dislikes hidden when seen items are asked for', async () => {
    const app = await appOn(engine);
    await ingest(app);
    // A dislike older than every item the request reads.
    await api(app).post('/ratings').send({ userId: 'heavy', itemId: 'i35', rating: 1, timestamp: 10 }).expect(200);
    const all = (await api(app).get('/users/heavy/recommendations?limit=40&exclude_seen=false').expect(200)).body;
    expect(itemsOf(all)).toContain('i0');
    expect(itemsOf(all)).not.toContain('i35');
  }, 600_000);
});
