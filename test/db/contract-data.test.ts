import { describe, expect, it } from 'vitest';
import { BACKENDS, storePerTest } from '../helpers/backends.js';

const item = (itemId: string, categories: string[] = [], extra: Partial<{ hidden: boolean; availableFrom: number | null; labels: Record<string, string> }> = {}) => ({
  itemId,
  categories,
  hidden: extra.hidden ?? false,
  availableFrom: extra.availableFrom ?? null,
  availableUntil: null,
  labels: extra.labels ?? {},
});

describe.each(BACKENDS)('data repositories on %s', (backend) => {
  const t = storePerTest(backend);

  it('ratings: later or equal timestamp wins, older is ignored, row by row within a batch', async () => {
    expect(await t.store.ratings.upsert([{ userId: 'u1', itemId: 'a', rating: 3, timestamp: 100 }])).toEqual({ inserted: 1, updated: 0, ignored: 0 });
    const counts = await t.store.ratings.upsert([
      { userId: 'u1', itemId: 'a', rating: 1, timestamp: 50 }, // older: ignored
      { userId: 'u1', itemId: 'a', rating: 5, timestamp: 100 }, // equal: replaces
      { userId: 'u1', itemId: 'b', rating: 2, timestamp: 10 }, // new
      { userId: 'u1', itemId: 'b', rating: 4, timestamp: 20 }, // later, same batch
      { userId: 'u1', itemId: 'b', rating: 1, timestamp: 15 }, // older than the batch's own
    ]);
    expect(counts).toEqual({ inserted: 1, updated: 2, ignored: 2 });
    const { rows } = await t.store.training.read({});
    expect(rows.map((r) => [r.item, r.rating, r.ts])).toEqual([
      ['a', 5, 100],
      ['b', 4, 20],
    ]);
    expect(await t.store.ratings.count()).toBe(2);
  });

  it('a batch that fails is all-or-nothing: no rating, no user, no item stays', async () => {
    await t.store.ratings.upsert([{ userId: 'keep', itemId: 'x', rating: 4, timestamp: 1 }]);
    const bad = [
      { userId: 'u-new', itemId: 'i-new', rating: 4, timestamp: 1 },
      { userId: null as unknown as string, itemId: 'i-other', rating: 4, timestamp: 1 },
    ];
    await expect(t.store.ratings.upsert(bad)).rejects.toThrow();
    await expect(t.store.events.insert([{ userId: 'u-new', itemId: 'i-new', type: 'click', value: 1, timestamp: 1 }, { userId: 'u', itemId: null as unknown as string, type: 'click', value: 1, timestamp: 1 }])).rejects.toThrow();
    expect(await t.store.stats.counts()).toEqual({ users: 1, items: 1, ratings: 1, events: 0, hiddenItems: 0 });
  });

  it('events: an eventId is stored once, across batches and within one', async () => {
    const ev = (eventId: string | undefined, ts: number) => ({ userId: 'u', itemId: 'i', type: 'click', value: 1, timestamp: ts, ...(eventId ? { eventId } : {}) });
    expect(await t.store.events.insert([ev('e1', 1), ev('e1', 2), ev(undefined, 3), ev(undefined, 4)])).toEqual({ inserted: 3, updated: 0, ignored: 1 });
    expect(await t.store.events.insert([ev('e1', 5), ev('e2', 6)])).toEqual({ inserted: 1, updated: 0, ignored: 1 });
    expect(await t.store.events.count()).toBe(4);
    expect(await t.store.bulk.deleteEvent('e2')).toBe('u');
    expect(await t.store.bulk.deleteEvent('e2')).toBeNull();
  });

  it('history pages newest first with a stable cursor; serving merges a user\'s items', async () => {
    await t.store.ratings.upsert([
      { userId: 'u', itemId: 'a', rating: 5, timestamp: 30 },
      { userId: 'u', itemId: 'b', rating: 1, timestamp: 10 },
    ]);
    await t.store.events.insert([
      { userId: 'u', itemId: 'c', type: 'purchase', value: 1, timestamp: 30, eventId: 'p1' },
      { userId: 'u', itemId: 'a', type: 'click', value: 2, timestamp: 40 },
      { userId: 'u', itemId: 'd', type: 'dislike', value: 1, timestamp: 5 },
    ]);
    const first = (await t.store.history.page('u', 2, null))!;
    expect(first.entries.map((e) => [e.kind, e.itemId, e.timestamp])).toEqual([
      ['event', 'a', 40],
      ['event', 'c', 30],
    ]);
    const rest = (await t.store.history.page('u', 10, first.next))!;
    expect(rest.entries.map((e) => [e.kind, e.itemId])).toEqual([
      ['rating', 'a'],
      ['rating', 'b'],
      ['event', 'd'],
    ]);
    expect(rest.next).toBeNull();
    expect(await t.store.history.page('nobody', 10, null)).toBeUndefined();

    const history = (await t.store.serving.userHistory('u', { click: 1, purchase: 4, dislike: -1 }, 10))!;
    expect(history.items).toEqual([
      { item: 'a', rating: 5, weight: 2, disliked: false },
      { item: 'c', rating: null, weight: 4, disliked: false },
      { item: 'b', rating: 1, weight: 0, disliked: false },
      { item: 'd', rating: null, weight: 0, disliked: true },
    ]);
    expect(await t.store.serving.userHistory('nobody', {}, 10)).toBeNull();
    expect(await t.store.serving.itemExists('c')).toBe(true);
    expect(await t.store.serving.itemExists('zz')).toBe(false);
    expect(await t.store.serving.newestInteraction()).toBe(40);
    const daily = await t.store.serving.dailyCounts(0, 2);
    expect(daily.sort((x, y) => `${x.item} ${x.type ?? ''}`.localeCompare(`${y.item} ${y.type ?? ''}`))).toEqual([
      { item: 'a', day: 0, count: 1, type: null },
      { item: 'a', day: 0, count: 1, type: 'click' },
      { item: 'c', day: 0, count: 1, type: 'purchase' },
      { item: 'd', day: 0, count: 1, type: 'dislike' },
    ]);
  });

  it('catalogue: items, categories, hiding, versions and the rows serving loads', async () => {
    const v0 = await t.store.catalogue.version();
    const put = await t.store.catalogue.putItems([item('m1', ['drama', 'comedy'], { labels: { year: '1999' } }), item('m2', ['drama'], { availableFrom: 1000 }), item('m1', ['drama'])], 5);
    expect(put).toEqual({ inserted: 2, updated: 1, version: v0 + 1 });
    expect(await t.store.catalogue.getItem('m1')).toEqual({ ...item('m1', ['drama']), createdAt: 5, updatedAt: 5 });
    expect(await t.store.catalogue.hideItem('m2', 7)).toBe(v0 + 2);
    expect(await t.store.catalogue.hideItem('nope', 7)).toBeNull();
    expect(await t.store.catalogue.version()).toBe(v0 + 2);
    const rows = await t.store.catalogue.rows();
    expect(rows.version).toBe(v0 + 2);
    expect(rows.restricted).toEqual([{ itemId: 'm2', hidden: true, availableFrom: 1000, availableUntil: null }]);
    expect(rows.categories.sort((a, b) => a.itemId.localeCompare(b.itemId))).toEqual([
      { itemId: 'm1', category: 'drama' },
      { itemId: 'm2', category: 'drama' },
    ]);
    expect(await t.store.catalogue.putUsers([{ userId: 'u9', labels: { plan: 'pro' } }, { userId: 'u8', labels: {} }, { userId: 'u9', labels: { plan: 'team' } }], 3)).toEqual({ inserted: 2 });
    expect(await t.store.catalogue.getUser('u9')).toMatchObject({ labels: { plan: 'team' } });
    expect(await t.store.catalogue.putUsers([{ userId: 'u9', labels: {} }], 4)).toEqual({ inserted: 0 });
    await expect(t.store.catalogue.putUsers([{ userId: 'u7', labels: {} }, { userId: null as unknown as string, labels: {} }], 5)).rejects.toThrow();
    expect(await t.store.catalogue.getUser('u7')).toBeUndefined();
    expect(await t.store.catalogue.getUser('u9')).toEqual({ userId: 'u9', labels: {}, createdAt: 3, updatedAt: 4 });
    expect(await t.store.serving.latestItems(5)).toEqual([{ item: 'm1', createdAt: 5 }]);
  });

  it('erasure deletes a user\'s ratings, events and record in one transaction; the id can come back as a new user', async () => {
    await t.store.ratings.upsert([{ userId: 'gone', itemId: 'a', rating: 4, timestamp: 1 }, { userId: 'stay', itemId: 'a', rating: 4, timestamp: 1 }]);
    await t.store.events.insert([{ userId: 'gone', itemId: 'b', type: 'click', value: 1, timestamp: 2 }]);
    expect(await t.store.catalogue.eraseUser('gone')).toEqual({ ratings: 1, events: 1 });
    expect(await t.store.catalogue.eraseUser('gone')).toBeUndefined();
    expect(await t.store.stats.counts()).toMatchObject({ users: 1, items: 2, ratings: 1, events: 0 });
    await t.store.ratings.upsert([{ userId: 'gone', itemId: 'a', rating: 2, timestamp: 3 }]);
    expect((await t.store.serving.userHistory('gone', {}, 10))!.items).toEqual([{ item: 'a', rating: 2, weight: 0, disliked: false }]);
  });

  it('bulk pages resume at their cursor; item search by prefix and by category; user search by prefix; single deletes', async () => {
    await t.store.catalogue.putItems(['b2', 'a1', 'a10', 'a2', 'c1'].map((id, k) => item(id, k % 2 ? ['odd'] : ['even'])), 1);
    // Ids within one batch may be assigned in any order (PostgreSQL creates them sorted, against deadlocks); a walk sees each once.
    const first = await t.store.bulk.page('items', 0, 2);
    const next = await t.store.bulk.page('items', first[first.length - 1].cursor, 10);
    expect([...first, ...next].map((r) => r.itemId).sort()).toEqual(['a1', 'a10', 'a2', 'b2', 'c1']);
    expect(first.length).toBe(2);
    expect((await t.store.bulk.searchItems({ prefix: 'a1' }, 10)).map((r) => r.itemId)).toEqual(['a1', 'a10']);
    expect((await t.store.bulk.searchItems({ prefix: 'a' }, 2)).map((r) => r.itemId)).toEqual(['a1', 'a10']);
    expect((await t.store.bulk.searchItems({ category: 'odd', after: 0 }, 10)).map((r) => r.itemId)).toEqual(['a1', 'a2']);
    expect([...first, ...next].find((r) => r.itemId === 'a10')).toMatchObject({ categories: ['even'], hidden: false, labels: {}, createdAt: 1 });
    await t.store.ratings.upsert([{ userId: 'u', itemId: 'a1', rating: 4, timestamp: 9 }]);
    expect(await t.store.bulk.page('ratings', 0, 10)).toEqual([expect.objectContaining({ userId: 'u', itemId: 'a1', rating: 4, timestamp: 9 })]);
    expect(await t.store.bulk.deleteRating('u', 'a1')).toBe(true);
    expect(await t.store.bulk.deleteRating('u', 'a1')).toBe(false);
    await t.store.ratings.upsert(['ann', 'anna', 'bob', 'an\u00e9'].map((userId) => ({ userId, itemId: 'a1', rating: 3, timestamp: 9 })));
    expect((await t.store.bulk.searchUsers('an', 10)).map((r) => r.userId)).toEqual(['ann', 'anna', 'an\u00e9']);
    expect((await t.store.bulk.searchUsers('an', 1)).map((r) => r.userId)).toEqual(['ann']);
    expect(await t.store.bulk.searchUsers('zz', 10)).toEqual([]);
  });

  it('stats: counts, ingest buckets and the largest categories', async () => {
    await t.store.catalogue.putItems([item('x', ['a', 'b']), item('y', ['a'])], 1);
    await t.store.ratings.upsert([{ userId: 'u', itemId: 'x', rating: 4, timestamp: 1 }]);
    await t.store.events.insert([{ userId: 'u', itemId: 'y', type: 'click', value: 1, timestamp: 1 }]);
    const now = Date.now();
    const hour = 3_600_000;
    const start = Math.floor(now / hour) * hour - 2 * hour;
    const buckets = await t.store.stats.ingest(start, now, hour);
    expect(buckets).toEqual([{ t: Math.floor(now / hour) * hour, ratings: 1, events: 1 }]);
    expect(await t.store.stats.categories(1)).toEqual([{ category: 'a', items: 2 }]);
  });

  it('training data: ratings then weighted events, with a watermark of what was read', async () => {
    await t.store.ratings.upsert([{ userId: 'u1', itemId: 'a', rating: 4, timestamp: 10 }]);
    await t.store.events.insert([
      { userId: 'u2', itemId: 'a', type: 'view', value: 2, timestamp: 13 },
      { userId: 'u2', itemId: 'b', type: 'ignored', value: 1, timestamp: 14 },
    ]);
    const { rows, watermark } = await t.store.training.read({ view: 0.5 });
    expect(rows).toEqual([
      { user: 'u1', item: 'a', rating: 4, ts: 10 },
      { user: 'u2', item: 'a', weight: 1, ts: 13 },
    ]);
    expect(watermark).toMatchObject({ ratings: 1, events: 2, users: 2, items: 2 });
    expect(await t.store.training.latestIds()).toEqual({ lastRatingId: watermark.lastRatingId, lastEventId: watermark.lastEventId });
    expect(await t.store.training.watermark()).toEqual(watermark);
  });

  it('two processes writing the same new pairs, items and users at once: every batch commits, the later rating wins, an erased user comes back whole', async () => {
    const other = await t.fx.open();
    const pairs = Array.from({ length: 200 }, (_, k) => ({ userId: `u${k % 20}`, itemId: `i${k % 37}`, rating: 1 + (k % 5), timestamp: k }));
    const reversed = [...pairs].reverse().map((r) => ({ ...r, timestamp: r.timestamp + 1000 }));
    const runs = [];
    for (let k = 0; k < 6; k++) {
      runs.push(t.store.ratings.upsert(pairs), other.ratings.upsert(reversed));
      runs.push(t.store.catalogue.putItems([item('i1', ['a']), item('i2', ['b'])], k), other.catalogue.putItems([item('i2', ['c']), item('i1', ['d'])], k), other.catalogue.hideItem('i3', k));
    }
    await Promise.all(runs);
    const { rows } = await t.store.training.read({});
    // Each pair's latest timestamp came from the reversed batches (ts + 1000).
    expect(rows.every((r) => r.ts >= 1000)).toBe(true);
    expect(rows.length).toBe(new Set(pairs.map((p) => `${p.userId}|${p.itemId}`)).size);
    const racing = await Promise.all([t.store.catalogue.eraseUser('u1'), other.ratings.upsert([{ userId: 'u1', itemId: 'i9', rating: 5, timestamp: 5000 }])]);
    expect(racing[0]).toBeDefined();
    const after = (await t.store.serving.userHistory('u1', {}, 100))?.items ?? [];
    // Either order is a valid serialisation: erased then written (one new rating), or written then erased (none).
    expect(after.length === 0 || (after.length === 1 && after[0].item === 'i9')).toBe(true);
  });
});
