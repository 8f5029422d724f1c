import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syntheticInteractions } from '../../src/data/synthetic.js';
import { initBackend } from '../../src/models/backend.js';
import type { RecModel } from '../../src/models/model.js';
import { NO_ARTIFACTS } from '../../src/serving/artifacts.js';
import { ServingIndex } from '../../src/serving/index.js';
import type { Scored } from '../../src/serving/top-n.js';
import { readSnapshot, writeSnapshot, type LoadedSnapshot } from '../../src/serving/snapshots.js';
import { indexForModel } from '../../src/train/artifacts.js';
import { trainModel, type TrainResult } from '../../src/train/trainer.js';
import { tempDir } from '../helpers/app.js';

// Above PRECOMPUTE_SIMILAR_MAX_ITEMS, so the similar-item lists come from the cosine index too.
const data = syntheticInteractions({ users: 1200, items: 9000, density: 0.004, seed: 17 });
const ANN = { annMinItems: 1000 };
const watermark = { ratings: 0, events: 0, users: 0, items: 0, lastRatingId: 0, lastEventId: 0, lastIngestAt: 0 };
const { dir, cleanup } = tempDir();
let model: RecModel;
let result: TrainResult;
let trained: ServingIndex;
let loaded: LoadedSnapshot;

beforeAll(async () => {
  ({ model, result } = await trainModel(data, { model: 'ials', hyper: { factors: 16 }, epochs: 3 }, await initBackend('auto')));
  trained = await indexForModel(model, data, NO_ARTIFACTS, ANN.annMinItems);
  const popularity = new Float32Array(data.itemIds.length);
  const snap = await writeSnapshot(dir, { model, result, userIds: data.userIds, itemIds: data.itemIds, popularity, watermark, jobId: null, retrieval: trained.retrieval, itemGram: trained.itemGram });
  loaded = await readSnapshot(snap.dir);
}, 300_000);
afterAll(() => cleanup());

const users = Array.from({ length: 150 }, (_, k) => k * 8);
const items = Array.from({ length: 150 }, (_, k) => k * 40);
const none = (): boolean => false;
const answers = (index: ServingIndex) => ({
  recommend: users.map((u) => index.recommend(u, 10, none)),
  filtered: users.map((u) => index.recommend(u, 10, (i) => i % 3 === 0)),
  similar: items.map((i) => index.similarTo(i, 10, none)),
  similarUsers: users.map((u) => index.similarUsers(u, 10)),
});

/** The share of `b`'s answers that `a` gives too, list by list (recall@10 of `a` against `b`). */
function agreement(a: (Scored[] | null)[], b: (Scored[] | null)[]): number {
  let hits = 0;
  let total = 0;
  a.forEach((list, k) => {
    const mine = new Set((list ?? []).map((s) => s.item));
    for (const s of b[k] ?? []) hits += mine.has(s.item) ? 1 : 0;
    total += (b[k] ?? []).length;
  });
  return hits / total;
}

describe('approximate-retrieval indexes built by the training job and saved with the snapshot', () => {
  it('writes the score, cosine and user indexes and the similar-item lists into the snapshot, checksummed', () => {
    expect(trained.approximate).toBe(true);
    expect(Object.keys(loaded.manifest.files).filter((f) => f.startsWith('retrieval/')).sort()).toEqual([
      'retrieval/items-unit.usearch.0',
      'retrieval/items.usearch.0',
      'retrieval/similar.csr',
      'retrieval/users.usearch.0',
    ]);
    expect(loaded.manifest.retrieval).toMatchObject({ items: { bias: false, shared: false }, users: true, similarWidth: 50 });
  });

  it('serving maps the saved indexes instead of building them, and answers exactly as the training side did', async () => {
    const served = await ServingIndex.build(loaded, ANN);
    expect(served.retrieval.ann).toBe(loaded.retrieval!.ann);
    expect(served.retrieval.annUsers).toBe(loaded.retrieval!.annUsers);
    expect(answers(served)).toEqual(answers(trained));
    expect(served.neighbourLists).toEqual(trained.neighbourLists);
    // The fold-in Gram matrix comes with the snapshot too, as the training side computed it.
    expect(Object.keys(loaded.manifest.files)).toContain('item-gram.f64');
    expect(served.itemGram).toEqual(trained.itemGram);
  });

  // Two HNSW builds on two threads insert in different orders, so their graphs (and a few
  // borderline answers) differ: both are held to the exact answers, and to each other.
  it('the prebuilt indexes give the same answers as indexes built at load', async () => {
    const prebuilt = answers(await ServingIndex.build(loaded, ANN));
    const builtAtLoad = await ServingIndex.build({ ...loaded, retrieval: undefined }, ANN);
    expect(builtAtLoad.retrieval.ann).not.toBe(loaded.retrieval!.ann);
    expect(builtAtLoad.approximate).toBe(true);
    const atLoad = answers(builtAtLoad);
    const exact = answers(await ServingIndex.build(loaded, { annMinItems: 0 }));
    for (const kind of ['recommend', 'filtered', 'similar', 'similarUsers'] as const) {
      // Measured over three runs: 0.96–1.0 for every kind (similar items the lowest).
      expect(agreement(prebuilt[kind], atLoad[kind]), kind).toBeGreaterThanOrEqual(0.93);
      expect(agreement(prebuilt[kind], exact[kind]), kind).toBeGreaterThanOrEqual(0.93);
      expect(agreement(atLoad[kind], exact[kind]), kind).toBeGreaterThanOrEqual(0.93);
    }
  });

  it('a serving process configured for exact retrieval ignores the saved indexes', async () => {
    const exact = await ServingIndex.build(loaded, { annMinItems: 0 });
    expect(exact.approximate).toBe(false);
    expect(exact.retrieval.ann).toBeNull();
  });

  it('a damaged index file is refused by the checksum before anything maps it', async () => {
    const copy = await writeSnapshot(join(dir, 'damaged'), { model, result, userIds: data.userIds, itemIds: data.itemIds, popularity: new Float32Array(data.itemIds.length), watermark, jobId: null, retrieval: trained.retrieval });
    await writeFile(join(copy.dir, 'retrieval', 'users.usearch.0'), 'not an index');
    await expect(readSnapshot(copy.dir)).rejects.toThrow(/users\.usearch\.0/);
    await rm(join(dir, 'damaged'), { recursive: true, force: true });
  });
});
