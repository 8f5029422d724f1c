import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildInteractions, csrHas, nItems, nUsers, strength, toCsr } from '../../src/data/interactions.js';
import { detectFormat, loadInteractionsFile, LoaderError } from '../../src/data/loaders.js';
import { pointwiseEpoch, sampleEvalCandidates } from '../../src/data/negatives.js';
import { Rng } from '../../src/data/rng.js';
import { leaveOneOutSplit, ratioSplit } from '../../src/data/split.js';
import { syntheticInteractions } from '../../src/data/synthetic.js';
import { tempDir } from '../helpers/app.js';

const rows = fc.array(
  fc.record({ user: fc.integer({ min: 0, max: 8 }), item: fc.integer({ min: 0, max: 15 }), ts: fc.integer({ min: 0, max: 50 }), rating: fc.integer({ min: 1, max: 5 }) }),
  { minLength: 1, maxLength: 120 },
);
const toData = (list: { user: number; item: number; ts: number; rating: number }[]) =>
  buildInteractions(list.map((r) => ({ user: `u${r.user}`, item: `i${r.item}`, rating: r.rating, ts: r.ts })), 5);

describe('Rng', () => {
  it('is deterministic per seed and uniform enough', () => {
    const a = new Rng(7);
    const b = new Rng(7);
    const xs = Array.from({ length: 1000 }, () => a.next());
    expect(xs).toEqual(Array.from({ length: 1000 }, () => b.next()));
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(mean).toBeGreaterThan(0.45);
    expect(mean).toBeLessThan(0.55);
    expect(new Rng(8).next()).not.toBe(new Rng(7).next());
  });
});

describe('interactions', () => {
  it('merges repeated pairs: the later rating wins and event weights add up', () => {
    const d = buildInteractions(
      [
        { user: 'a', item: 'x', rating: 2, ts: 10 },
        { user: 'a', item: 'x', rating: 4, ts: 20 },
        { user: 'a', item: 'x', rating: 1, ts: 5 },
        { user: 'a', item: 'y', weight: 1, ts: 1 },
        { user: 'a', item: 'y', weight: 0.5, ts: 3 },
      ],
      5,
    );
    expect(d.user.length).toBe(2);
    expect(d.rating[0]).toBe(4);
    expect(d.ts[0]).toBe(20);
    expect(Number.isNaN(d.rating[1])).toBe(true);
    expect(d.implicit[1]).toBe(1.5);
    expect(strength(d, 1)).toBe(1.5);
  });

  it('builds sorted CSR rows in both orientations', () => {
    fc.assert(
      fc.property(rows, (list) => {
        const d = toData(list);
        const byUser = toCsr(d, 'byUser');
        const byItem = toCsr(d, 'byItem');
        expect(byUser.indices.length).toBe(d.user.length);
        for (let k = 0; k < d.user.length; k++) {
          expect(csrHas(byUser, d.user[k], d.item[k])).toBe(true);
          expect(csrHas(byItem, d.item[k], d.user[k])).toBe(true);
        }
        for (let r = 0; r < byUser.rows; r++) {
          for (let p = byUser.indptr[r] + 1; p < byUser.indptr[r + 1]; p++) expect(byUser.indices[p]).toBeGreaterThan(byUser.indices[p - 1]);
        }
      }),
    );
  });
});

describe('splits', () => {
  it('leave-one-out holds out each user\'s latest pair for test and second latest for validation', () => {
    fc.assert(
      fc.property(rows, (list) => {
        const d = toData(list);
        const s = leaveOneOutSplit(d);
        const key = (u: number, i: number) => `${u}:${i}`;
        const all = new Set(Array.from(d.user, (u, k) => key(u, d.item[k])));
        const train = Array.from(s.train.user, (u, k) => key(u, s.train.item[k]));
        const valid = Array.from(s.valid.user, (u, k) => key(u, s.valid.item[k]));
        const test = Array.from(s.test.user, (u, k) => key(u, s.test.item[k]));
        expect(new Set([...train, ...valid, ...test])).toEqual(all);
        expect(train.length + valid.length + test.length).toBe(all.size);
        for (let c = 0; c < s.test.user.length; c++) {
          const u = s.test.user[c];
          const mine = Array.from(d.user.keys()).filter((k) => d.user[k] === u);
          expect(mine.length).toBeGreaterThanOrEqual(3);
          const latest = mine.reduce((a, b) => (d.ts[b] > d.ts[a] || (d.ts[b] === d.ts[a] && d.item[b] > d.item[a]) ? b : a));
          expect(s.test.item[c]).toBe(d.item[latest]);
          expect(s.valid.user[c]).toBe(u);
        }
        const evaluated = new Set(s.test.user);
        for (let u = 0; u < nUsers(d); u++) {
          const count = d.user.filter((x) => x === u).length;
          expect(evaluated.has(u)).toBe(count >= 3);
        }
      }),
    );
  });

  it('ratio split partitions each user\'s pairs and is seeded', () => {
    const d = syntheticInteractions({ users: 50, items: 80, density: 0.2, seed: 3 });
    const a = ratioSplit(d, new Rng(1));
    const b = ratioSplit(d, new Rng(1));
    expect(a.test.item).toEqual(b.test.item);
    expect(a.train.user.length + a.valid.user.length + a.test.user.length).toBe(d.user.length);
    const share = a.test.user.length / d.user.length;
    expect(share).toBeGreaterThan(0.08);
    expect(share).toBeLessThan(0.14);
  });
});

describe('negative sampling', () => {
  it('evaluation candidates are distinct items the user never saw, target first', () => {
    const d = syntheticInteractions({ users: 60, items: 200, density: 0.1, seed: 2 });
    const s = leaveOneOutSplit(d);
    const seen = toCsr(d, 'byUser');
    const c = sampleEvalCandidates(s.test, seen, 99, new Rng(5));
    for (let k = 0; k < s.test.user.length; k++) {
      const row = Array.from(c.subarray(k * 100, (k + 1) * 100));
      expect(row[0]).toBe(s.test.item[k]);
      expect(new Set(row.slice(1)).size).toBe(99);
      for (const j of row.slice(1)) expect(csrHas(seen, s.test.user[k], j)).toBe(false);
    }
    expect(sampleEvalCandidates(s.test, seen, 99, new Rng(5))).toEqual(c);
  });

  it('pointwise epochs have every positive once and unobserved negatives', () => {
    const d = syntheticInteractions({ users: 30, items: 100, density: 0.1, seed: 4 });
    const seen = toCsr(d, 'byUser');
    for (const order of ['instances', 'groups'] as const) {
      const inst = pointwiseEpoch({ user: d.user, item: d.item, explicit: new Float32Array(d.user.length) }, seen, 4, new Rng(1), order);
      expect(inst.user.length).toBe(d.user.length * 5);
      let positives = 0;
      for (let k = 0; k < inst.user.length; k++) {
        const observed = csrHas(seen, inst.user[k], inst.item[k]);
        expect(observed).toBe(inst.label[k] === 1);
        positives += inst.label[k];
      }
      expect(positives).toBe(d.user.length);
    }
  });
});

describe('synthetic data', () => {
  it('has the requested shape, integer ratings and popularity skew', () => {
    const d = syntheticInteractions({ users: 200, items: 300, density: 0.05, seed: 9 });
    expect(nUsers(d)).toBe(200);
    expect(nItems(d)).toBeLessThanOrEqual(300);
    const density = d.user.length / (200 * 300);
    expect(density).toBeGreaterThan(0.035);
    expect(density).toBeLessThan(0.07);
    expect(Array.from(d.rating).every((r) => Number.isInteger(r) && r >= 1 && r <= 5)).toBe(true);
    const counts = new Map<number, number>();
    for (const i of d.item) counts.set(i, (counts.get(i) ?? 0) + 1);
    const sorted = [...counts.values()].sort((a, b) => b - a);
    expect(sorted[0]).toBeGreaterThan(5 * sorted[Math.floor(sorted.length / 2)]);
  });
});

describe('file loaders', () => {
  const write = (name: string, text: string): string => {
    const p = join(tempDir().dir, name);
    writeFileSync(p, text);
    return p;
  };

  it('reads MovieLens u.data (tab) with seconds timestamps', async () => {
    const r = await loadInteractionsFile(write('u.data', '196\t242\t3\t881250949\n186\t302\t3\t891717742\n196\t302\t5\t881250950\n'));
    expect(r.format).toBe('movielens-tab');
    expect(r.accepted).toBe(3);
    expect(r.interactions.userIds).toEqual(['196', '186']);
    expect(r.interactions.ts[0]).toBe(881250949000);
    expect(r.interactions.ratingMax).toBe(5);
  });

  it('reads MovieLens ratings.dat (::)', async () => {
    const r = await loadInteractionsFile(write('ratings.dat', '1::1193::5::978300760\n1::661::3::978302109\n'));
    expect(r.format).toBe('movielens-dat');
    expect(r.interactions.itemIds).toEqual(['1193', '661']);
  });

  it('reads RecBole .inter with typed header columns in any order', async () => {
    const r = await loadInteractionsFile(write('ml.inter', 'item_id:token\tuser_id:token\trating:float\ttimestamp:float\n242\t196\t3\t881250949\n'));
    expect(r.format).toBe('recbole');
    expect(r.interactions.userIds).toEqual(['196']);
    expect(r.interactions.itemIds).toEqual(['242']);
  });

  it('reads CSV with a header, quoted fields, and implicit rows without a rating', async () => {
    const r = await loadInteractionsFile(write('r.csv', 'user,item,rating,timestamp\n"a,1",x,4,1700000000000\nb,y,,1700000000001\n'));
    expect(r.format).toBe('csv');
    expect(r.interactions.userIds).toEqual(['a,1', 'b']);
    expect(r.interactions.rating[0]).toBe(4);
    expect(Number.isNaN(r.interactions.rating[1])).toBe(true);
    expect(r.interactions.implicit[1]).toBe(1);
  });

  it('reports bad lines with their line numbers and keeps the good ones', async () => {
    const r = await loadInteractionsFile(write('bad.csv', 'user,item,rating,timestamp\na,x,4,1\nb,y,five,2\n,z,3,3\nc,w,2,-5\nd,v,1,4\n'));
    expect(r.accepted).toBe(2);
    expect(r.errorCount).toBe(3);
    expect(r.errors.map((e) => e.line)).toEqual([3, 4, 5]);
    expect(r.errors[0].message).toMatch(/rating "five"/);
  });

  it('refuses files it cannot read', async () => {
    await expect(loadInteractionsFile(write('empty.csv', ''))).rejects.toThrow(/empty/);
    await expect(loadInteractionsFile(write('nouser.csv', 'foo,item\n1,2\n'))).rejects.toThrow(LoaderError);
    await expect(loadInteractionsFile(write('allbad.data', '1\t2\tx\t3\n'))).rejects.toThrow(/line 1/);
    expect(() => detectFormat('just words')).toThrow(/--format/);
  });
});
