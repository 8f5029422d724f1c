import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { api } from '../helpers/app.js';
import { appOnEngine, type Engine } from '../helpers/postgres.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const appOn = (engine: Engine): Promise<FastifyInstance> => appOnEngine(engine, {}, cleanups);

const importEvents = (a: FastifyInstance, body: string) => api(a).post('/admin/import/events').set('content-type', 'application/x-ndjson').send(body);
const T0 = Date.parse('2026-03-01T00:00:00Z');

describe.each(['sqlite', 'postgres'] as const)('re-importing events without eventIds (%s)', (engine) => {
  it('stores each event once: fix the bad line, import the whole file again, 3,000 events', async () => {
    const a = await appOn(engine);
    const events = Array.from({ length: 3000 }, (_, k) => ({ userId: `u${k % 50}`, itemId: `i${k % 70}`, type: k % 5 ? 'click' : 'purchase', timestamp: T0 + k * 1000 }));
    const broken = events.map((e, k) => JSON.stringify(k === 2500 ? { ...e, type: 'no-such-type' } : e)).join('\n');
    const first = await importEvents(a, broken);
    expect(first.status).toBe(400);
    expect(first.body.details[0]).toMatchObject({ path: 'line 2501' });
    expect(await a.services.database.events.count()).toBe(2000);

    const fixed = events.map((e) => JSON.stringify(e)).join('\n');
    const again = await importEvents(a, fixed);
    expect(again.status, JSON.stringify(again.body)).toBe(200);
    expect(await a.services.database.events.count()).toBe(3000);
    // And once more, whole: nothing new.
    await importEvents(a, fixed).expect(200);
    expect(await a.services.database.events.count()).toBe(3000);
    // The same through POST /events (a retried batch) and an export round trip.
    await api(a).post('/events').send({ events: events.slice(0, 100) }).expect(200);
    expect(await a.services.database.events.count()).toBe(3000);
  }, 600_000);

  it('keeps distinct events apart: another timestamp, value or type is another event', async () => {
    const a = await appOn(engine);
    const e = { userId: 'u', itemId: 'i', type: 'click', timestamp: T0 };
    const res = await api(a).post('/events').send({ events: [e, { ...e, timestamp: T0 + 1 }, { ...e, value: 2 }, { ...e, type: 'view' }, e] }).expect(200);
    expect(res.body).toMatchObject({ inserted: 4, ignored: 1 });
    const history = (await api(a).get('/users/u/history').expect(200)).body as { items: { eventId?: string | null }[] };
    expect(history.items.every((x) => typeof x.eventId === 'string' && x.eventId.startsWith('~'))).toBe(true);
    // Without a timestamp the server stamps the event: new by definition, even when repeated.
    const stamped = await api(a).post('/events').send({ events: [{ userId: 'u', itemId: 'i', type: 'click' }, { userId: 'u', itemId: 'i', type: 'click' }] }).expect(200);
    expect(stamped.body).toMatchObject({ inserted: 2, ignored: 0 });
  });
});
