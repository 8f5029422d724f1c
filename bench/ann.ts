/**
 * Approximate retrieval benchmark: recall@10 against the exact top-10 by inner product, query
 * time and build time of the serving ANN index (src/serving/ann.ts) on `--items` × 64 vectors
 * with a decaying spectrum (factor f scaled by 1/(f+1)^0.8, row norms 0.5–1.5), or isotropic
 * noise with `--isotropic yes`. Prints a table and writes bench/results/ann.json.
 *
 *   npx tsx bench/ann.ts [--items 100000] [--queries 200] [--isotropic no]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { Rng } from '../src/data/rng.js';
import { AnnIndex } from '../src/serving/ann.js';
import { topN } from '../src/serving/top-n.js';
import { arg } from './args.js';

const items = Number(arg('items', '100000'));
const queries = Number(arg('queries', '200'));
const isotropic = arg('isotropic', 'no') === 'yes';
const dims = 64;
const rng = new Rng(7);

function vectors(rows: number): Float32Array {
  const out = new Float32Array(rows * dims);
  for (let r = 0; r < rows; r++) {
    const norm = isotropic ? 1 : 0.5 + rng.next();
    for (let f = 0; f < dims; f++) out[r * dims + f] = rng.normal() * (isotropic ? 1 : norm / (f + 1) ** 0.8);
  }
  return out;
}

const itemVectors = vectors(items);
const users = vectors(queries);
const t0 = performance.now();
const ann = await AnnIndex.build(itemVectors, items, dims, null);
const buildSeconds = (performance.now() - t0) / 1000;
let hits = 0;
let searchMs = 0;
for (let q = 0; q < queries; q++) {
  const u = users.subarray(q * dims, (q + 1) * dims);
  const scores = new Float32Array(items);
  for (let i = 0; i < items; i++) {
    let s = 0;
    for (let f = 0; f < dims; f++) s += itemVectors[i * dims + f] * u[f];
    scores[i] = s;
  }
  const exact = new Set(topN(scores, 10).map((s) => s.item));
  const t = performance.now();
  const found = ann.search(u, 10);
  searchMs += performance.now() - t;
  hits += Array.from(found).filter((i) => exact.has(i)).length;
}
const result = { items, dims, isotropic, buildSeconds: Number(buildSeconds.toFixed(1)), recallAt10: hits / (queries * 10), msPerQuery: Number((searchMs / queries).toFixed(3)) };
console.log('| items | vectors | build s | recall@10 | ms/query |\n|---|---|---|---|---|');
console.log(`| ${items.toLocaleString('en')} | ${isotropic ? 'isotropic' : 'decaying spectrum'} | ${result.buildSeconds} | ${result.recallAt10} | ${result.msPerQuery} |`);
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/ann.json', JSON.stringify(result, null, 2));
