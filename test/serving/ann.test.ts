import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import { AnnIndex, augmentItems } from '../../src/serving/ann.js';
import { searchShards, SHARD_ROWS, shardRanges } from '../../src/serving/ann-shards.js';
import { Rng } from '../../src/data/rng.js';
import { api, startApp, tempDir, testConfig } from '../helpers/app.js';
import { AUTH, ingestSynthetic, waitForJob } from '../helpers/training.js';

const usearch = createRequire(import.meta.url)('usearch') as typeof import('usearch');
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function randomMatrix(rows: number, dims: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: rows * dims }, () => rng.next() - 0.5);
}

describe('approximate retrieval (HNSW over augmented vectors)', () => {
  it('augmentation turns the largest inner product plus bias into the smallest distance', () => {
    const rows = 300;
    const dims = 8;
    const vectors = randomMatrix(rows, dims, 1);
    const bias = randomMatrix(rows, 1, 2);
    const { data, dims: D } = augmentItems({ vectors, rows, dims, bias });
    const u = randomMatrix(1, dims, 3);
    const q = Float32Array.from([...u, 1, 0]);
    const ip = (i: number) => bias[i] + u.reduce((s, x, f) => s + x * vectors[i * dims + f], 0);
    const dist = (i: number) => q.reduce((s, x, f) => s + (x - data[i * D + f]) ** 2, 0);
    const byIp = Array.from({ length: rows }, (_, i) => i).sort((a, b) => ip(b) - ip(a));
    const byDist = Array.from({ length: rows }, (_, i) => i).sort((a, b) => dist(a) - dist(b));
    expect(byDist.slice(0, 20)).toEqual(byIp.slice(0, 20));
  });

  it('a search over shards merges their answers by distance into the global nearest rows', () => {
    const dims = 8;
    const rows = 3000;
    const data = randomMatrix(rows, dims, 9);
    const shards = [0, 1000, 2000].map((from) => {
      const index = new usearch.Index({ dimensions: dims, metric: usearch.MetricKind.L2sq, quantization: usearch.ScalarKind.F32, connectivity: 16, expansion_add: 64, expansion_search: 128, multi: false });
      index.add(BigUint64Array.from({ length: 1000 }, (_, i) => BigInt(from + i)), data.subarray(from * dims, (from + 1000) * dims), 1);
      return index;
    });
    const queries = randomMatrix(20, dims, 10);
    const found = searchShards(shards, queries, dims, 10, 1);
    let hits = 0;
    found.forEach((keys, q) => {
      const dist = (i: number) => Array.from({ length: dims }, (_, f) => (queries[q * dims + f] - data[i * dims + f]) ** 2).reduce((a, b) => a + b, 0);
      const exact = Array.from({ length: rows }, (_, i) => i).sort((a, b) => dist(a) - dist(b)).slice(0, 10);
      hits += exact.filter((i) => keys.includes(i)).length;
      // Nearest first across shards, and rows of every shard among the answers.
      expect(keys.map(dist)).toEqual([...keys.map(dist)].sort((a, b) => a - b));
    });
    expect(hits / 200).toBeGreaterThanOrEqual(0.97);
    expect(new Set(found.flat().map((k) => Math.floor(k / 1000))).size).toBe(3);
    expect(shardRanges(SHARD_ROWS * 2 + 5)).toEqual([[0, SHARD_ROWS], [SHARD_ROWS, 2 * SHARD_ROWS], [2 * SHARD_ROWS, 2 * SHARD_ROWS + 5]]);
  });

  it('finds the exact top-10 by inner product on a small matrix', async () => {
    const rows = 2000;
    const dims = 16;
    const vectors = randomMatrix(rows, dims, 4);
    const ann = await AnnIndex.build(vectors, rows, dims, null);
    let hits = 0;
    for (let t = 0; t < 20; t++) {
      const u = randomMatrix(1, dims, 100 + t);
      const exact = Array.from({ length: rows }, (_, i) => i)
        .map((i) => ({ i, s: u.reduce((s, x, f) => s + x * vectors[i * dims + f], 0) }))
        .sort((a, b) => b.s - a.s)
        .slice(0, 10)
        .map((x) => x.i);
      const found = new Set(ann.search(u, 10));
      hits += exact.filter((i) => found.has(i)).length;
    }
    expect(hits / 200).toBeGreaterThanOrEqual(0.95);
  });

  it('serves the same recommendations and similar items as the exact path, filters included', async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const exactApp = await startApp(testConfig(dir, { MODEL_POLL_MS: '100' }));
    cleanups.push(() => exactApp.close());
    await ingestSynthetic(exactApp, 120, 150);
    const job = await waitForJob(exactApp, (await api(exactApp).post('/admin/retrain').set(AUTH).send({ model: 'gmf', epochs: 3 })).body.jobId);
    expect(job.state).toBe('completed');
    await api(exactApp).put('/items').send({ items: Array.from({ length: 150 }, (_, k) => ({ itemId: `i${k + 1}`, categories: k % 10 === 0 ? ['rare'] : [] })) }).expect(200);

    const approxApp = await startApp(testConfig(dir, { ANN_MIN_ITEMS: '100' }));
    cleanups.push(() => approxApp.close());
    expect(approxApp.services.store.current()?.approximate).toBe(true);
    expect(exactApp.services.store.current()?.approximate).toBe(false);

    const ids = (b: { items: { itemId: string }[] }) => b.items.map((i) => i.itemId);
    let hits = 0;
    let total = 0;
    for (let u = 1; u <= 30; u++) {
      for (const query of ['limit=10', 'limit=5&category=rare']) {
        const path = `/users/u${u}/recommendations?${query}`;
        const exact = ids((await api(exactApp).get(path)).body);
        const approx = (await api(approxApp).get(path)).body;
        expect(approx.source).toBe('model');
        hits += exact.filter((id) => ids(approx).includes(id)).length;
        total += exact.length;
      }
      const similarExact = ids((await api(exactApp).get(`/items/i${u}/similar?limit=10`)).body);
      const similarApprox = ids((await api(approxApp).get(`/items/i${u}/similar?limit=10`)).body);
      hits += similarExact.filter((id) => similarApprox.includes(id)).length;
      total += similarExact.length;
    }
    expect(hits / total).toBeGreaterThanOrEqual(0.95);
    // Filters hold on the approximate path: only the rare category comes back.
    const rare = ids((await api(approxApp).get('/users/u1/recommendations?limit=5&category=rare')).body);
    expect(rare.length).toBeGreaterThan(0);
    expect(rare.every((id) => (Number(id.slice(1)) - 1) % 10 === 0)).toBe(true);

    // A job run where ANN is on saves its indexes with the snapshot; serving maps them.
    const next = await waitForJob(approxApp, (await api(approxApp).post('/admin/retrain').set(AUTH).send({ model: 'gmf', epochs: 1, force: true })).body.jobId);
    expect(next.state).toBe('completed');
    await approxApp.services.store.refresh();
    const served = approxApp.services.store.current()!;
    expect(served.version).toBe(next.result?.version);
    const manifest = JSON.parse(readFileSync(join(dir, 'models', 'gmf', served.version, 'manifest.json'), 'utf8'));
    expect(manifest.retrieval).toMatchObject({ items: { shared: false }, users: true });
    expect(Object.keys(manifest.files)).toContain('retrieval/items.usearch.0');
    expect(served.approximate).toBe(true);
  }, 600_000);
});
