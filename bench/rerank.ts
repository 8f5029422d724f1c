/**
 * Serving NeuMF and EINMF, whose score is not a dot product: the index proposes candidates by
 * the GMF (dot-product) part and reranks them with the full model. This measures what that
 * costs and how much of the exact top-10 (full model over every item) it recovers.
 *
 *   npx tsx bench/rerank.ts [--users 300] [--epochs 3]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { csrHas, toCsr } from '../src/data/interactions.js';
import { leaveOneOutSplit } from '../src/data/split.js';
import { ML100K_LIKE, syntheticInteractions } from '../src/data/synthetic.js';
import { initBackend } from '../src/models/backend.js';
import type { ModelName } from '../src/models/model.js';
import { createModel } from '../src/models/registry.js';
import { RERANK_CANDIDATES, ServingIndex } from '../src/serving/index.js';
import type { LoadedSnapshot } from '../src/serving/snapshots.js';
import { topN } from '../src/serving/top-n.js';
import { arg } from './args.js';


const users = Number(arg('users', '300'));
const epochs = Number(arg('epochs', '3'));
const backend = await initBackend('auto');
const data = syntheticInteractions(ML100K_LIKE);
const { train } = leaveOneOutSplit(data);
const seen = toCsr(train, 'byUser');
const nItems = data.itemIds.length;
const rows: Record<string, number | string>[] = [];

for (const name of ['neumf', 'einmf'] as ModelName[]) {
  const model = createModel(name, data.userIds.length, nItems, name === 'neumf' ? { pretrain: false } : {});
  await model.fit(train, { epochs });
  const snapshot = {
    manifest: { model: name, version: 'bench', metrics: { valid: {}, test: {} } },
    model,
    userIds: [...data.userIds],
    itemIds: [...data.itemIds],
    embeddings: model.embeddings(),
    popularity: new Float32Array(nItems),
  } as unknown as LoadedSnapshot;
  const index = await ServingIndex.build(snapshot);
  const all = Int32Array.from({ length: nItems }, (_, i) => i);
  let exactMs = 0;
  let rerankMs = 0;
  let overlap = 0;
  for (let u = 0; u < users; u++) {
    const skip = (i: number) => csrHas(seen, u, i);
    let t = performance.now();
    const exact = topN(model.scorePairs(new Int32Array(nItems).fill(u), all), 10, skip);
    exactMs += performance.now() - t;
    t = performance.now();
    const fast = index.recommend(u, 10, skip);
    rerankMs += performance.now() - t;
    const set = new Set(exact.map((s) => s.item));
    overlap += fast.filter((s) => set.has(s.item)).length;
  }
  rows.push({ model: name, candidates: RERANK_CANDIDATES, exactMsPerUser: +(exactMs / users).toFixed(2), rerankMsPerUser: +(rerankMs / users).toFixed(2), recallAt10: +(overlap / (users * 10)).toFixed(4) });
}

console.log(`backend ${backend.name}; ${nItems} items; ${users} users; models trained ${epochs} epochs\n`);
console.log('| model | candidates | exact ms/user | rerank ms/user | recall@10 of exact top-10 |');
console.log('|---|---|---|---|---|');
for (const r of rows) console.log(`| ${r.model} | ${r.candidates} | ${r.exactMsPerUser} | ${r.rerankMsPerUser} | ${r.recallAt10} |`);
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/rerank.json', JSON.stringify({ backend, rows }, null, 2));
