/**
 * The serving inner loop: one vector scored against every row of a 100,000 × 64 matrix, in JS,
 * in tfjs (wasm backend, matrix resident as a tensor) and in the WebAssembly SIMD kernel.
 *
 *   npx tsx bench/kernel.ts [--rows 100000] [--dims 64]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/models/backend.js';
import { jsScores, MatrixScorer } from '../src/serving/kernels/dot.js';
import { arg } from './args.js';


const n = Number(arg('rows', '100000'));
const d = Number(arg('dims', '64'));
const backend = await initBackend('auto');
const M = Float32Array.from({ length: n * d }, () => Math.random() - 0.5);
const v = Float32Array.from({ length: d }, () => Math.random() - 0.5);

function unrolled(): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    const o = i * d;
    for (let f = 0; f + 3 < d; f += 4) {
      s0 += v[f] * M[o + f];
      s1 += v[f + 1] * M[o + f + 1];
      s2 += v[f + 2] * M[o + f + 2];
      s3 += v[f + 3] * M[o + f + 3];
    }
    out[i] = s0 + s1 + s2 + s3;
  }
  return out;
}

const resident = tf.tensor2d(M, [n, d]);
const tfScores = () => tf.tidy(() => tf.matMul(resident, tf.tensor2d(v, [d, 1])).dataSync());
const scorer = new MatrixScorer(M, n, d);

function time(fn: () => unknown, reps = 30): number {
  fn();
  const t = performance.now();
  for (let r = 0; r < reps; r++) fn();
  return (performance.now() - t) / reps;
}

const rows = [
  { implementation: 'JS loop', ms: time(() => jsScores(M, n, d, v)) },
  { implementation: 'JS loop, 4 accumulators', ms: time(unrolled) },
  { implementation: `tf.matMul [n,d]×[d,1], ${backend.name} backend, matrix resident as a tensor`, ms: time(tfScores, 10) },
  { implementation: `dot.wat, WebAssembly f32x4 SIMD (simd=${scorer.simd})`, ms: time(() => scorer.scores(v)) },
];
console.log(`${n.toLocaleString('en')} × ${d}, one vector\n`);
console.log('| implementation | ms |');
console.log('|---|---|');
for (const r of rows) console.log(`| ${r.implementation} | ${r.ms.toFixed(2)} |`);
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/kernel.json', JSON.stringify({ n, d, rows }, null, 2));
