import { describe, expect, it } from 'vitest';
import { buildInteractions, toCsr } from '../../src/data/interactions.js';
import { evaluateFullRanking, metricsFromRanks, ranksOfCandidates } from '../../src/train/evaluate.js';

describe('ranking metrics', () => {
  it('computes HR@K and NDCG@K from ranks (hand-checked)', () => {
    const m = metricsFromRanks([0, 1, 4, 9, 30]);
    expect(m['HR@5']).toBeCloseTo(3 / 5);
    expect(m['HR@10']).toBeCloseTo(4 / 5);
    expect(m['HR@20']).toBeCloseTo(4 / 5);
    const gain = 1 + 1 / Math.log2(3) + 1 / Math.log2(6);
    expect(m['NDCG@5']).toBeCloseTo(gain / 5);
    expect(m['NDCG@10']).toBeCloseTo((gain + 1 / Math.log2(11)) / 5);
  });

  it('ranks the held-out item by negatives scoring strictly higher (ties favour it)', () => {
    const scores = Float32Array.of(0.5, 0.9, 0.5, 0.1, /* case 2 */ 0.2, 0.3, 0.4, 0.5);
    expect(Array.from(ranksOfCandidates(scores, 4))).toEqual([1, 3]);
  });

  it('full ranking ignores items the user already saw', () => {
    const d = buildInteractions(
      [
        { user: 'u', item: 'a', rating: 5, ts: 1 },
        { user: 'u', item: 'b', rating: 5, ts: 2 },
        { user: 'v', item: 'c', rating: 5, ts: 1 },
        { user: 'v', item: 'd', rating: 5, ts: 1 },
      ],
      5,
    );
    const seen = toCsr(d, 'byUser');
    // item ids: a=0, b=1, c=2, d=3. The user's held-out item is b; a (seen) scores higher but is skipped.
    const score = (_u: Int32Array, items: Int32Array) => Float32Array.from(items, (i) => [0.9, 0.5, 0.6, 0.1][i]);
    const m = evaluateFullRanking(score, { user: Int32Array.of(0), item: Int32Array.of(1) }, seen);
    expect(m['HR@5']).toBe(1);
    expect(m['NDCG@5']).toBeCloseTo(1 / Math.log2(3));
  });
});
