import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileKernel, KERNELS, kernelModuleSource } from '../../scripts/build-wasm.js';
import { jsScores, MatrixScorer } from '../../src/serving/kernels/dot.js';

describe('the dot-product kernel', () => {
  it('every kernel is compiled from its .wat as committed (run `npm run wasm` after editing one)', async () => {
    expect(KERNELS.map((k) => k.wat)).toEqual(['src/serving/kernels/dot.wat', 'src/models/kernels/bag.wat']);
    for (const kernel of KERNELS) expect(readFileSync(kernel.out, 'utf8'), kernel.out).toBe(kernelModuleSource(kernel, await compileKernel(kernel)));
  });

  it('runs with WebAssembly SIMD here and matches the JS reference for any shape', () => {
    expect(new MatrixScorer(new Float32Array(8), 1, 8).simd).toBe(true);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 300 }), fc.integer({ min: 1, max: 70 }), fc.integer(), (rows, d, seed) => {
        let x = seed;
        const rand = () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32) * 2 - 1;
        const m = Float32Array.from({ length: rows * d }, rand);
        const v = Float32Array.from({ length: d }, rand);
        const got = new MatrixScorer(m, rows, d).scores(v);
        const want = jsScores(m, rows, d, v);
        for (let i = 0; i < rows; i++) expect(Math.abs(got[i] - want[i])).toBeLessThan(1e-4 * (1 + Math.abs(want[i])));
      }),
      { numRuns: 200 },
    );
  });
});
