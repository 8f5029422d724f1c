import { describe, expect, it } from 'vitest';
import { ExperimentRunningError, type ImpressionRecord } from '../../src/db/online-repository.js';
import { BACKENDS, storePerTest } from '../helpers/backends.js';

const DAY = 86_400_000;
const T0 = 20_000 * DAY;

function impression(id: string, userId: string | null, items: string[], extra: Partial<ImpressionRecord> = {}): ImpressionRecord {
  return {
    id,
    route: 'recommendations',
    userId,
    model: 'ials',
    modelVersion: 'v1',
    experimentId: null,
    variant: null,
    exploration: 0,
    poolSize: 0,
    createdAt: T0,
    items: items.map((itemId) => ({ itemId, source: 'model', team: null, propensity: 1, novelty: 2 })),
    ...extra,
  };
}

const batch = (parts: Partial<Parameters<import('../../src/db/online-repository.js').OnlineRepository['record']>[0]>) => ({ impressions: [], feedback: [], reports: [], windowMs: 3_600_000, ...parts });

describe.each(BACKENDS)('online repository on %s', (backend) => {
  const t = storePerTest(backend);

  it('attributes feedback exactly by recommendationId, else to the newest impression in the window, once per slot and type', async () => {
    const online = t.store.online;
    const first = await online.record(batch({ impressions: [impression('r1', 'u1', ['a', 'b', 'c']), impression('r2', 'u1', ['b', 'd'], { createdAt: T0 + 1000, model: 'ease' })] }));
    expect(first).toMatchObject({ impressions: 2, attributed: [], unknownReports: 0 });
    expect((await online.record(batch({ impressions: [impression('r1', 'u1', ['x'])] }))).impressions).toBe(0);
    const result = await online.record(
      batch({
        feedback: [
          // Exact: r1 holds b even though r2 is newer.
          { userId: 'u1', itemId: 'b', type: 'click', positive: true, at: T0 + 2000, recommendationId: 'r1' },
          // By window: the newest impression showing b to u1 is r2.
          { userId: 'u1', itemId: 'b', type: 'purchase', positive: true, at: T0 + 3000 },
          { userId: 'u1', itemId: 'b', type: 'click', positive: true, at: T0 + 4000, recommendationId: 'r1' },
          // Out of the window, another user, an item not shown, a negative.
          { userId: 'u1', itemId: 'a', type: 'click', positive: true, at: T0 + 2 * 3_600_000 },
          { userId: 'u2', itemId: 'a', type: 'click', positive: true, at: T0 + 10 },
          { userId: 'u2', itemId: 'a', type: 'click', positive: true, at: T0 + 10, recommendationId: 'r1' },
          { userId: 'u1', itemId: 'z', type: 'click', positive: true, at: T0 + 10 },
          { userId: 'u1', itemId: 'c', type: 'dislike', positive: false, at: T0 + 10 },
        ],
      }),
    );
    expect(result.attributed).toEqual(
      expect.arrayContaining([
        { type: 'click', exact: true, model: 'ials', variant: null },
        { type: 'purchase', exact: false, model: 'ease', variant: null },
        { type: 'dislike', exact: false, model: 'ials', variant: null },
      ]),
    );
    expect(result.attributed).toHaveLength(3);
    const { lists, sources } = await online.days(T0 - DAY, 10);
    const ials = lists.find((r) => r.model === 'ials')!;
    expect(ials).toMatchObject({ day: T0 / DAY, lists: 1, slots: 3, positiveSlots: 1, positiveLists: 1, distinctItems: 3, noveltySum: 6, noveltyCount: 3, conversions: { click: 1, dislike: 1 } });
    expect(lists.find((r) => r.model === 'ease')).toMatchObject({ lists: 1, slots: 2, positiveSlots: 1, conversions: { purchase: 1 } });
    expect(sources).toEqual([{ day: T0 / DAY, source: 'model', slots: 5, positiveSlots: 2 }]);
    // CTR@1 counts only the first position.
    expect((await online.days(T0 - DAY, 1)).lists.find((r) => r.model === 'ials')).toMatchObject({ slots: 1, positiveSlots: 0 });
  });

  it('a seen report leaves the items not rendered out of the metrics and of attribution', async () => {
    const online = t.store.online;
    await online.record(batch({ impressions: [impression('r1', 'u1', ['a', 'b', 'c'])] }));
    const r = await online.record(
      batch({ reports: [{ recommendationId: 'r1', itemIds: ['a'] }, { recommendationId: 'nope', itemIds: [] }], feedback: [{ userId: 'u1', itemId: 'c', type: 'click', positive: true, at: T0 + 5 }] }),
    );
    expect(r).toMatchObject({ unknownReports: 1, attributed: [] });
    expect((await online.days(0, 10)).lists[0]).toMatchObject({ slots: 1, positiveSlots: 0 });
  });

  it('sums per-user statistics per variant (A/B) and interleaving outcomes; exploration logs; purge', async () => {
    const online = t.store.online;
    const ab = { experimentId: 'e1' };
    await online.record(
      batch({
        impressions: [
          impression('a1', 'u1', ['x', 'y'], { ...ab, variant: 'A' }),
          impression('a2', 'u2', ['x', 'y'], { ...ab, variant: 'A' }),
          impression('b1', 'u3', ['x', 'y'], { ...ab, variant: 'B' }),
        ],
        feedback: [
          { userId: 'u1', itemId: 'x', type: 'click', positive: true, at: T0 + 1 },
          { userId: 'u3', itemId: 'x', type: 'click', positive: true, at: T0 + 1 },
          { userId: 'u3', itemId: 'y', type: 'purchase', positive: true, at: T0 + 1 },
        ],
      }),
    );
    const sums = await online.variantSums('e1', 'ab', 'positive', 'A');
    expect(sums).toEqual([
      { variant: 'A', users: 2, sum: 0.5, sumSquares: 0.25, impressions: 2, slots: 4, positives: 1 },
      { variant: 'B', users: 1, sum: 1, sumSquares: 1, impressions: 1, slots: 2, positives: 2 },
    ]);
    expect((await online.variantSums('e1', 'ab', 'purchase', 'A')).map((s) => s.positives)).toEqual([0, 1]);

    const team = (itemId: string, t: string) => ({ itemId, source: 'model', team: t, propensity: 1, novelty: null });
    const inter = (id: string, user: string) => ({ ...impression(id, user, []), experimentId: 'e2', variant: 'interleaved', items: [team('p', 'A'), team('q', 'B')] });
    await online.record(
      batch({
        impressions: [inter('i1', 'u1'), inter('i2', 'u1'), inter('i3', 'u2')],
        feedback: [
          { userId: 'u1', itemId: 'p', type: 'click', positive: true, at: T0 + 1, recommendationId: 'i1' },
          { userId: 'u2', itemId: 'q', type: 'click', positive: true, at: T0 + 1, recommendationId: 'i3' },
        ],
      }),
    );
    // u1: (+1 + 0) / 2 = 0.5, u2: -1.
    expect(await online.variantSums('e2', 'interleave', 'positive', 'A')).toEqual([
      { variant: 'interleaved', users: 2, sum: -0.5, sumSquares: 1.25, impressions: 3, slots: 6, positives: 2, wins: { first: 1, second: 1 } },
    ]);

    await online.record(
      batch({
        impressions: [{ ...impression('x1', 'u9', ['m', 'n'], { exploration: 0.2, poolSize: 10, createdAt: T0 + 5 }), items: [team('m', 'A'), { ...team('n', 'A'), propensity: 0.02 }] }],
        feedback: [{ userId: 'u9', itemId: 'n', type: 'click', positive: true, at: T0 + 6 }],
      }),
    );
    expect(await online.explorationLogs(0, 10)).toEqual([
      { id: 'x1', userId: 'u9', createdAt: T0 + 5, items: [{ position: 0, itemId: 'm', propensity: 1, positive: false }, { position: 1, itemId: 'n', propensity: 0.02, positive: true }] },
    ]);
    expect(await online.impressionCount()).toBe(7);
    expect(await online.purge(T0 + 1)).toBe(6);
    expect(await online.impressionCount()).toBe(1);
  });

  it('keeps at most one running experiment and updates status, verdict and winner', async () => {
    const online = t.store.online;
    const row = { id: 'e1', name: 'first', mode: 'ab' as const, status: 'running' as const, spec: '{}', verdict: null, winner: null, createdAt: 1, stoppedAt: null, concludedAt: null };
    await online.createExperiment(row);
    await expect(online.createExperiment({ ...row, id: 'e2', createdAt: 2 })).rejects.toBeInstanceOf(ExperimentRunningError);
    await online.createExperiment({ ...row, id: 'e3', status: 'stopped', createdAt: 3 });
    await expect(online.updateExperiment('e3', { status: 'running' })).rejects.toBeInstanceOf(ExperimentRunningError);
    expect(await online.updateExperiment('e1', { status: 'concluded', winner: 'B', verdict: '{"decided":true}', stoppedAt: 5, concludedAt: 6 })).toMatchObject({ status: 'concluded', winner: 'B', stoppedAt: 5 });
    expect((await online.experiments()).map((e) => e.id)).toEqual(['e3', 'e1']);
    expect(await online.experiment('e1')).toMatchObject({ verdict: '{"decided":true}', concludedAt: 6 });
    expect(await online.updateExperiment('missing', { status: 'stopped' })).toBeNull();
  });
});
