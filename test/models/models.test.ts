import { beforeAll, describe, expect, it } from 'vitest';
import { toCsr } from '../../src/data/interactions.js';
import { leaveOneOutSplit } from '../../src/data/split.js';
import { syntheticInteractions } from '../../src/data/synthetic.js';
import { initBackend, type BackendInfo } from '../../src/models/backend.js';
import { MODEL_NAMES, type ModelName } from '../../src/models/model.js';
import { loadModel, saveModel } from '../../src/models/persist.js';
import { createModel } from '../../src/models/registry.js';
import { buildEvalSet, evaluateSampled } from '../../src/train/evaluate.js';
import { trainModel } from '../../src/train/trainer.js';
import { tempDir } from '../helpers/app.js';

// Small enough for CI, large enough that the planted structure is learnable.
const data = syntheticInteractions({ users: 300, items: 400, density: 0.06, seed: 21 });
const split = leaveOneOutSplit(data);
const test = buildEvalSet(split.test, toCsr(data, 'byUser'));
const small: Record<ModelName, Record<string, unknown>> = {
  dmf: { layers: [64, 32] },
  // NCF's lr of 0.001 is tuned for 100k+ interactions; this data set is 6× smaller.
  gmf: { factors: 16, lr: 0.01 },
  mlp: { factors: 16, lr: 0.01 },
  neumf: { factors: 16, lr: 0.01, pretrainEpochs: 6 },
  einmf: { factors: 16, batchSize: 256 },
  bpr: { factors: 16 },
  pop: {},
  itemknn: {},
  ease: { lambda: 50 },
  ials: { factors: 16 },
  hybrid: { factors: 16, lr: 0.01 },
};
const epochs: Record<ModelName, number> = { dmf: 6, gmf: 15, mlp: 10, neumf: 4, einmf: 6, bpr: 40, pop: 1, itemknn: 1, ease: 1, ials: 10, hybrid: 15 };

let backend: BackendInfo;
beforeAll(async () => {
  backend = await initBackend('auto');
});

describe('every model learns the planted structure', () => {
  let popHr = 0;
  beforeAll(async () => {
    const { result } = await trainModel(data, { model: 'pop' }, backend);
    popHr = result.test['HR@10'];
  });

  it.each(MODEL_NAMES.filter((m) => m !== 'pop'))('%s beats ItemPop on HR@10 (leave-one-out, 99 sampled negatives)', async (name) => {
    const { result } = await trainModel(data, { model: name, hyper: small[name], epochs: epochs[name], patience: 5 }, backend);
    expect(result.test['HR@10']).toBeGreaterThan(popHr + 0.03);
    expect(result.fit.bestEpoch).toBeGreaterThanOrEqual(1);
    expect(result.backend.name).toBe(backend.name);
    expect(result.history.length).toBeGreaterThanOrEqual(1);
    expect(result.history[0].samplesPerSec).toBeGreaterThan(0);
  }, 600_000);
});

describe('determinism and persistence', () => {
  it.each(['gmf', 'dmf', 'einmf', 'neumf', 'ials'] as const)('%s: the same seed gives the same model', async (name) => {
    const run = async () => {
      const m = createModel(name, data.userIds.length, data.itemIds.length, { ...small[name], seed: 5, ...(name === 'neumf' ? { pretrainEpochs: 1 } : {}) });
      await m.fit(split.train, { epochs: 1 });
      return evaluateSampled((u, i) => m.scorePairs(u, i), test);
    };
    expect(await run()).toEqual(await run());
  }, 600_000);

  it.each(MODEL_NAMES)('%s: save and load give identical scores', async (name) => {
    const m = createModel(name, data.userIds.length, data.itemIds.length, small[name]);
    await m.fit(split.train, { epochs: 1 });
    const { dir, cleanup } = tempDir();
    try {
      const files = await saveModel(m, dir);
      expect(files.some((f) => f.path === 'model.json')).toBe(true);
      const loaded = await loadModel(dir);
      expect(loaded.name).toBe(name);
      const users = Int32Array.from({ length: 200 }, (_, k) => k % 300);
      const items = Int32Array.from({ length: 200 }, (_, k) => (k * 7) % 400);
      expect(loaded.scorePairs(users, items)).toEqual(m.scorePairs(users, items));
    } finally {
      cleanup();
    }
  }, 600_000);

  it('leaves no tensors behind after training and scoring', async () => {
    const tf = await import('@tensorflow/tfjs-core');
    const before = tf.memory().numTensors;
    for (const name of ['neumf', 'dmf', 'einmf'] as const) {
      const m = createModel(name, data.userIds.length, data.itemIds.length, { ...small[name], ...(name === 'neumf' ? { pretrainEpochs: 1 } : {}) });
      await m.fit(split.train, { epochs: 1, validate: (score) => evaluateSampled(score, test)['HR@10'] });
      m.scorePairs(Int32Array.of(0, 1), Int32Array.of(2, 3));
      m.embeddings();
    }
    expect(tf.memory().numTensors).toBe(before);
  }, 600_000);

  it('refuses unknown hyperparameters and corrupted weight files', async () => {
    expect(() => createModel('gmf', 3, 3, { factor: 8 })).toThrow(/factor/);
    expect(() => createModel('einmf', 3, 3, { factors: 10 })).toThrow(/multiple of 4/);
    const m = createModel('gmf', 10, 10, { factors: 4 });
    const { dir, cleanup } = tempDir();
    try {
      const files = await saveModel(m, dir);
      const { writeFileSync } = await import('node:fs');
      writeFileSync(`${dir}/${files[0].path}`, Buffer.alloc(files[0].bytes));
      await expect(loadModel(dir)).rejects.toThrow(/checksum/);
    } finally {
      cleanup();
    }
  });
});
