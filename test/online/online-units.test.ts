import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/rng.js';
import { assignVariant, unitHash } from '../../src/online/assign.js';
import { explore } from '../../src/online/explore.js';
import { teamDraft } from '../../src/online/interleave.js';
import { offPolicyEstimate } from '../../src/online/offpolicy.js';
import { estimate, twoSampleTest } from '../../src/online/stats.js';

describe('assignment', () => {
  it('is sticky and matches the shares within sampling error', () => {
    const variants = [{ name: 'A', share: 0.2 }, { name: 'B', share: 0.5 }, { name: 'C', share: 0.3 }];
    const n = 20_000;
    const counts = new Map<string, number>();
    for (let u = 0; u < n; u++) {
      const v = assignVariant(variants, unitHash('exp-1', `user-${u}`));
      counts.set(v.name, (counts.get(v.name) ?? 0) + 1);
      expect(assignVariant(variants, unitHash('exp-1', `user-${u}`)).name).toBe(v.name);
    }
    for (const v of variants) expect(Math.abs(counts.get(v.name)! / n - v.share)).toBeLessThan(4 * Math.sqrt((v.share * (1 - v.share)) / n));
    // Another experiment reshuffles users independently.
    const same = Array.from({ length: 2000 }, (_, u) => (unitHash('exp-1', `user-${u}`) < 0.5) === (unitHash('exp-2', `user-${u}`) < 0.5)).filter(Boolean).length;
    expect(Math.abs(same / 2000 - 0.5)).toBeLessThan(0.05);
  });
});

describe('team-draft interleaving', () => {
  it('alternates teams fairly, skips items already placed and credits each item to one team', () => {
    const a = ['x', 'y', 'z', 'w'];
    const b = ['y', 'q', 'x', 'r'];
    const drafted = teamDraft(a, b, 6, (s) => s, () => true);
    expect(drafted.map((d) => d.item)).toEqual(['x', 'y', 'z', 'q', 'w', 'r']);
    expect(drafted.map((d) => d.team)).toEqual([0, 1, 0, 1, 0, 1]);
    // Each team's picks stay in its own order and the counts never differ by more than one.
    const rng = new Rng(3);
    for (let t = 0; t < 200; t++) {
      const d = teamDraft(rng.shuffle(['a', 'b', 'c', 'd', 'e', 'f']), rng.shuffle(['a', 'b', 'c', 'd', 'g', 'h']), 6, (s) => s, () => rng.next() < 0.5);
      expect(new Set(d.map((x) => x.item)).size).toBe(6);
      let diff = 0;
      for (const x of d) {
        diff += x.team === 0 ? 1 : -1;
        expect(Math.abs(diff)).toBeLessThanOrEqual(1);
      }
    }
  });
});

describe('exploration', () => {
  it('logs the true probability of each item in each slot', () => {
    const page = ['p0', 'p1', 'p2'];
    const pool = Array.from({ length: 10 }, (_, k) => `q${k}`);
    const eps = 0.3;
    const rng = new Rng(11);
    const trials = 40_000;
    const seen = new Map<string, number>();
    for (let t = 0; t < trials; t++) {
      const e = explore(page, pool, eps, () => rng.next());
      e.items.forEach((item, k) => {
        const key = `${k}:${item}`;
        seen.set(key, (seen.get(key) ?? 0) + 1);
        expect(e.propensities[k]).toBeCloseTo(e.explored[k] ? eps / pool.length : 1 - eps, 12);
      });
    }
    expect(seen.get('0:p0')! / trials).toBeCloseTo(1 - eps, 2);
    expect(seen.get('2:q7')! / trials).toBeCloseTo(eps / pool.length, 2);
    // A pool smaller than the page is not explored (its propensities would not be exact).
    expect(explore(page, ['q0'], eps, () => 0).propensities).toEqual([1, 1, 1]);
  });

  it('the SNIPS estimate recovers a target policy\'s CTR from another policy\'s explored logs', async () => {
    const items = Array.from({ length: 30 }, (_, k) => `i${k}`);
    const ctrOf = (item: string, position: number): number => (0.02 + 0.3 * (Number(item.slice(1)) % 7 === 0 ? 1 : 0)) / (1 + position);
    const rng = new Rng(5);
    const logging = items.slice(0, 13);
    const target = [items[0], items[7], items[14]];
    const logs = Array.from({ length: 30_000 }, (_, n) => {
      const e = explore(logging.slice(0, 3), logging.slice(3), 0.3, () => rng.next());
      return { id: String(n), userId: `u${n}`, createdAt: 0, items: e.items.map((itemId, position) => ({ position, itemId, propensity: e.propensities[position], positive: rng.next() < ctrOf(itemId, position) })) };
    });
    // i14 lies outside the logging policy's page and pool: no support, never matched.
    const est = await offPolicyEstimate(logs, async () => target);
    const trueSupported = (ctrOf(target[0], 0) + ctrOf(target[1], 1)) / 2;
    expect(est.ctr).not.toBeNull();
    expect(Math.abs(est.ctr! - trueSupported)).toBeLessThan(4 * est.standardError! + 0.005);
    expect(est.loggedCtr).toBeLessThan(trueSupported);
    expect(est.effectiveSlots).toBeGreaterThan(100);
  });
});

describe('the sequential test', () => {
  it('keeps its false-positive rate at or below alpha under continuous peeking (A/A)', () => {
    const rng = new Rng(17);
    const alpha = 0.05;
    const runs = 300;
    let falsePositives = 0;
    for (let r = 0; r < runs; r++) {
      const sums = [{ n: 0, sum: 0, sumSquares: 0 }, { n: 0, sum: 0, sumSquares: 0 }];
      let rejected = false;
      for (let u = 0; u < 4000 && !rejected; u++) {
        const s = sums[u % 2];
        // A user's CTR over ten slots with the same true rate in both arms.
        let clicks = 0;
        for (let k = 0; k < 10; k++) if (rng.next() < 0.1) clicks++;
        const x = clicks / 10;
        s.n++;
        s.sum += x;
        s.sumSquares += x * x;
        // Look after every user once each arm has 100.
        if (sums[1].n >= 100 && u % 2 === 1) rejected = twoSampleTest(estimate(sums[0]), estimate(sums[1]), 0.01, alpha).significant;
      }
      if (rejected) falsePositives++;
    }
    expect(falsePositives / runs).toBeLessThanOrEqual(alpha);
  });

  it('finds a real difference, and its always-valid interval covers it', () => {
    const rng = new Rng(2);
    const sums = [{ n: 0, sum: 0, sumSquares: 0 }, { n: 0, sum: 0, sumSquares: 0 }];
    for (let u = 0; u < 20_000; u++) {
      const p = u % 2 ? 0.13 : 0.1;
      let clicks = 0;
      for (let k = 0; k < 10; k++) if (rng.next() < p) clicks++;
      const s = sums[u % 2];
      s.n++;
      s.sum += clicks / 10;
      s.sumSquares += (clicks / 10) ** 2;
    }
    const t = twoSampleTest(estimate(sums[0]), estimate(sums[1]), 0.01, 0.05);
    expect(t.significant).toBe(true);
    expect(t.alwaysValid![0]).toBeLessThan(0.03);
    expect(t.alwaysValid![1]).toBeGreaterThan(0.03);
    expect(t.alwaysValid![1] - t.alwaysValid![0]).toBeGreaterThan(t.interval95![1] - t.interval95![0]);
  });
});
