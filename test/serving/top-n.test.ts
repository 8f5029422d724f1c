import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { gramOf as gram } from '../../src/models/linalg.js';
import { foldInUser } from '../../src/serving/fold-in.js';
import { topN } from '../../src/serving/top-n.js';

/** The reference: sort everything, stable by id on ties. */
function bruteForce(scores: number[], n: number, skip: (i: number) => boolean) {
  return scores
    .map((score, item) => ({ item, score }))
    .filter((s) => !skip(s.item) && s.score !== -Infinity)
    .sort((a, b) => b.score - a.score || a.item - b.item)
    .slice(0, n);
}

describe('topN', () => {
  it('equals a brute-force sort on random scores, exclusions and limits', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.float({ noNaN: true, min: -10, max: 10 }), fc.constantFrom(0, 1, -Infinity)), { maxLength: 300 }),
        fc.integer({ min: 0, max: 120 }),
        fc.integer({ min: 1, max: 7 }),
        (raw, n, mod) => {
          const scores = raw.map((x) => Math.fround(x));
          const skip = (i: number) => i % mod === 0 && mod > 1;
          expect(topN(Float32Array.from(scores), n, skip)).toEqual(bruteForce(scores, n, skip));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('equals the brute force over a candidate subset in any order, ignoring NaN', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.float({ min: -10, max: 10 }), fc.constantFrom(0, 1, -Infinity, Number.NaN)), { minLength: 1, maxLength: 300 }),
        fc.integer({ min: 0, max: 60 }),
        fc.integer(),
        (raw, n, seed) => {
          const scores = raw.map((x) => Math.fround(x));
          let x = seed;
          const candidates = scores.map((_, i) => i).filter(() => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) & 3) !== 0);
          candidates.reverse();
          const outside = new Set(scores.map((_, i) => i).filter((i) => !candidates.includes(i)));
          const expected = bruteForce(scores, n, (i) => outside.has(i) || Number.isNaN(scores[i]));
          expect(topN(Float32Array.from(scores), n, undefined, Int32Array.from(candidates))).toEqual(expected);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('dot-product ranking on random embeddings matches exhaustive scoring', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 400 }), fc.integer({ min: 1, max: 16 }), fc.integer({ min: 1, max: 50 }), fc.integer(), (items, d, n, seed) => {
        let x = seed;
        const rand = () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32) * 2 - 1;
        const Q = Float32Array.from({ length: items * d }, rand);
        const u = Float32Array.from({ length: d }, rand);
        const scores = Array.from({ length: items }, (_, i) => {
          let s = 0;
          for (let f = 0; f < d; f++) s += u[f] * Q[i * d + f];
          return Math.fround(s);
        });
        expect(topN(Float32Array.from(scores), n)).toEqual(bruteForce(scores, n, () => false));
      }),
      { numRuns: 100 },
    );
  });

  it('never returns more than the eligible items, and handles n ≤ 0', () => {
    expect(topN(Float32Array.of(1, 2, 3), 10, (i) => i === 1)).toEqual([
      { item: 2, score: 3 },
      { item: 0, score: 1 },
    ]);
    expect(topN(Float32Array.of(1, 2), 0)).toEqual([]);
    expect(topN(Float32Array.of(5, 5, 5), 2)).toEqual([
      { item: 0, score: 5 },
      { item: 1, score: 5 },
    ]);
  });
});

describe('fold-in', () => {
  it('solves the implicit ALS normal equations', () => {
    const d = 3;
    const Q = Float32Array.of(1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 0);
    const G = gram(Q, 4, d);
    const x = foldInUser(G, Q, d, [0, 3], [1, 0.5], 2, 0.1);
    // Check A x = b directly.
    const A = Array.from(G);
    const b = [0, 0, 0];
    [[0, 1], [3, 0.5]].forEach(([j, s]) => {
      const c = 1 + 2 * s;
      for (let p = 0; p < d; p++) {
        b[p] += c * Q[j * d + p];
        for (let q = 0; q < d; q++) A[p * d + q] += (c - 1) * Q[j * d + p] * Q[j * d + q];
      }
    });
    for (let p = 0; p < d; p++) A[p * d + p] += 0.1;
    for (let p = 0; p < d; p++) {
      let s = 0;
      for (let q = 0; q < d; q++) s += A[p * d + q] * x[q];
      expect(s).toBeCloseTo(b[p], 4);
    }
    // The user's items score above the item they never touched.
    const score = (j: number) => x[0] * Q[j * d] + x[1] * Q[j * d + 1] + x[2] * Q[j * d + 2];
    expect(score(0)).toBeGreaterThan(score(2));
  });
});
