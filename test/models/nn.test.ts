import { describe, expect, it } from 'vitest';
import type { Csr } from '../../src/data/interactions.js';
import { Rng } from '../../src/data/rng.js';
import { dropoutMask } from '../../src/models/nn/dense-tower.js';
import { FeedbackBag } from '../../src/models/nn/feedback-bag.js';
import { initNormal, Param, type SparseGrad } from '../../src/models/nn/param.js';
import { inverseSqrtRowCounts, SparseLinear } from '../../src/models/nn/sparse-linear.js';

/** A random sparse matrix with ratings in (0, 1]. */
function randomCsr(rows: number, cols: number, density: number, rng: Rng): Csr {
  const indptr = new Int32Array(rows + 1);
  const indices: number[] = [];
  const values: number[] = [];
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      if (rng.next() >= density) continue;
      indices.push(c);
      values.push(Math.ceil(rng.next() * 5) / 5);
    }
    indptr[r + 1] = indices.length;
  }
  return { rows, cols, indptr, indices: Int32Array.from(indices), values: Float32Array.from(values) };
}

const dense = (grad: SparseGrad, rows: number, cols: number): Float32Array => {
  const out = new Float32Array(rows * cols);
  grad.rows.forEach((row, k) => out.set(grad.values.subarray(k * cols, (k + 1) * cols), row * cols));
  return out;
};

describe('feedback bag', () => {
  it.each([
    ['WebAssembly SIMD', true],
    ['JS', false],
  ])('%s: equals an explicit and an implicit sparse layer added, forward and backward', (_path, simd) => {
    const rng = new Rng(5);
    const R = randomCsr(30, 40, 0.2, rng);
    const IR = { ...R, values: new Float32Array(R.values.length).fill(1) };
    const scale = inverseSqrtRowCounts(R);
    const bag = FeedbackBag.create('bag', R, scale, 8, (p) => initNormal(p, rng, 0.1), simd);
    expect(bag.simd).toBe(simd);
    const { explicit: WE, implicit: WI } = bag;
    const rows = Int32Array.of(3, 0, 17, 29, 3);

    for (let step = 0; step < 2; step++) {
      const fused = new Float32Array(rows.length * 8);
      bag.forward(rows, fused);
      const e = new Float32Array(rows.length * 8);
      const i = new Float32Array(rows.length * 8);
      new SparseLinear(WE, R, scale).forward(rows, e);
      new SparseLinear(WI, IR, scale).forward(rows, i);
      fused.forEach((v, k) => expect(v).toBeCloseTo(e[k] + i[k], 5));

      // Twice: the second step must not see the first step's gradients.
      const dOut = Float32Array.from({ length: rows.length * 8 }, () => rng.normal());
      const grads = bag.backward(rows, dOut);
      const refE = new SparseLinear(WE, R, scale).backward(rows, dOut);
      const refI = new SparseLinear(WI, IR, scale).backward(rows, dOut);
      const [gE, gI, rE, rI] = [grads.explicit, grads.implicit, refE, refI].map((g) => dense(g, 40, 8));
      gE.forEach((v, k) => expect(v).toBeCloseTo(rE[k], 5));
      gI.forEach((v, k) => expect(v).toBeCloseTo(rI[k], 5));
      expect(rE.some((v) => v !== 0)).toBe(true);
      WE.data[3] += 0.5;
    }
  });
});

describe('sparse linear layer', () => {
  it('WebAssembly SIMD matches the JS loops, with bias and row scale, over repeated steps', () => {
    const rng = new Rng(8);
    const R = randomCsr(25, 30, 0.25, rng);
    const bias = Float32Array.from({ length: 12 }, () => rng.normal());
    const scale = inverseSqrtRowCounts(R);
    for (const rowScale of [null, scale]) {
      const simd = SparseLinear.create('W', R, rowScale, 12, (p) => initNormal(p, rng, 0.1), true);
      // The JS layer reads the same weights the kernel holds, so an update to one is seen by both.
      const js = new SparseLinear(simd.weight, R, rowScale);
      const W = simd.weight;
      expect([simd.simd, js.simd]).toEqual([true, false]);
      const rows = Int32Array.of(24, 1, 1, 7);
      for (let step = 0; step < 2; step++) {
        const [a, b] = [new Float32Array(rows.length * 12), new Float32Array(rows.length * 12)];
        simd.forward(rows, a, bias);
        js.forward(rows, b, bias);
        a.forEach((v, k) => expect(v).toBeCloseTo(b[k], 5));
        const dOut = Float32Array.from({ length: rows.length * 12 }, () => rng.normal());
        const [ga, gb] = [dense(simd.backward(rows, dOut), 30, 12), dense(js.backward(rows, dOut), 30, 12)];
        ga.forEach((v, k) => expect(v).toBeCloseTo(gb[k], 5));
        expect(gb.some((v) => v !== 0)).toBe(true);
        W.data[5] += 0.25;
      }
    }
    expect(() => new SparseLinear(initNormal(new Param('other', 30, 12), rng), R, null, SparseLinear.create('W', R, null, 12, () => undefined, true)['kernel'])).toThrow(/does not hold/);
  });
});

describe('dropout mask', () => {
  it('drops about p of the entries, scales the rest by 1/(1-p), and repeats under a seed', () => {
    const mask = dropoutMask(100_001, 0.2, new Rng(9));
    const kept = mask.filter((v) => v !== 0);
    expect(new Set(kept)).toEqual(new Set([Math.fround(1 / 0.8)]));
    expect(kept.length / mask.length).toBeGreaterThan(0.795);
    expect(kept.length / mask.length).toBeLessThan(0.805);
    expect(dropoutMask(1001, 0.2, new Rng(9))).toEqual(dropoutMask(1001, 0.2, new Rng(9)));
  });
});
