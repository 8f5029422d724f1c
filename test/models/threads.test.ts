import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { toCsr } from '../../src/data/interactions.js';
import { pointwiseEpoch } from '../../src/data/negatives.js';
import { Rng } from '../../src/data/rng.js';
import { syntheticInteractions } from '../../src/data/synthetic.js';
import { initBackend, type BackendInfo } from '../../src/models/backend.js';
import { EinmfModel } from '../../src/models/einmf.js';
import { TrainingAborted, type ModelName } from '../../src/models/model.js';
import { asyncMomentum, createOptimizer } from '../../src/models/nn/optimizer.js';
import { explicitTargets } from '../../src/models/nn/train-loop.js';
import { buildReplica } from '../../src/models/parallel/replica.js';
import { shareOf, startShards, twinData } from '../../src/models/parallel/shard-pool.js';
import { loadModel, saveModel } from '../../src/models/persist.js';
import { createModel } from '../../src/models/registry.js';
import { trainingThreads } from '../../src/train/threads.js';
import { trainModel } from '../../src/train/trainer.js';
import { liveWorkerThreads } from '../../src/threads/channel.js';
import { tempDir } from '../helpers/app.js';

// Training threads are real worker threads here: each start costs ~1 s under tsx.
const data = syntheticInteractions({ users: 500, items: 400, density: 0.06, seed: 33 });
const small: Partial<Record<ModelName, Record<string, unknown>>> = {
  einmf: { factors: 16, batchSize: 256 },
  dmf: { layers: [32, 16] },
  neumf: { factors: 16, lr: 0.01, pretrain: false },
};

let backend: BackendInfo;
beforeAll(async () => {
  backend = await initBackend('auto');
});

function epochOf(seed: number) {
  return pointwiseEpoch({ user: data.user, item: data.item, explicit: explicitTargets(data) }, toCsr(data, 'byUser'), 4, new Rng(seed), 'groups');
}

describe('training threads (Hogwild)', () => {
  it('gives each thread every T-th batch, all instances once', () => {
    const inst = epochOf(1);
    const shares = [0, 1, 2].map((t) => shareOf(inst, 100, t, 3));
    expect(shares.reduce((n, s) => n + s.user.length, 0)).toBe(inst.user.length);
    expect(Array.from(shares[1].user.subarray(0, 100))).toEqual(Array.from(inst.user.subarray(100, 200)));
    expect(Array.from(shares[1].item.subarray(100, 200))).toEqual(Array.from(inst.item.subarray(400, 500)));
    expect(shares.every((s) => Array.from(s.sizes).every((n) => n > 0 && n <= 100))).toBe(true);
  });

  it("a training thread's updates land in the main thread's weights", async () => {
    const m = new EinmfModel(data.userIds.length, data.itemIds.length, { factors: 16 });
    m.attach(data);
    m.optimizer = createOptimizer('adam', { lr: 0.01 });
    const pool = (await startShards(m, data, 2))!;
    try {
      expect(liveWorkerThreads()).toBe(1);
      const before = m.params().map((p) => p.data.slice());
      // This thread trains nothing: every change below is the other thread's.
      const loss = await pool.trainShares(epochOf(2), 256);
      expect(loss).toBeGreaterThan(0);
      const unchanged = m.params().filter((p, k) => p.data.every((v, i) => v === before[k][i]));
      expect(unchanged.map((p) => p.name)).toEqual([]);
    } finally {
      await pool.close();
    }
    expect(liveWorkerThreads()).toBe(0);
  }, 600_000);

  it.each(['einmf', 'neumf'] as const)('%s: two threads reach one thread\'s test HR@10 (and beat ItemPop)', async (name) => {
    const pop = (await trainModel(data, { model: 'pop' }, backend)).result.test['HR@10'];
    const run = (threads: number) => trainModel(data, { model: name, hyper: small[name], epochs: 4, patience: 4, threads }, backend);
    const one = (await run(1)).result;
    const two = (await run(2)).result;
    expect(one.fit.threads).toBeUndefined();
    expect(two.fit.threads).toBe(2);
    expect(two.test['HR@10']).toBeGreaterThan(pop + 0.03);
    // 500 test users: the standard error of each HR@10 is ≈0.02.
    expect(Math.abs(two.test['HR@10'] - one.test['HR@10'])).toBeLessThan(0.06);
    expect(liveWorkerThreads()).toBe(0);
  }, 600_000);

  it('leaves no threads or tensors behind: after training, a cancellation, a failing callback or a twin that cannot start', async () => {
    const tensors = tf.memory().numTensors;
    await trainModel(data, { model: 'einmf', hyper: small.einmf, epochs: 1, threads: 2 }, backend);
    expect(liveWorkerThreads()).toBe(0);

    const controller = new AbortController();
    const cancelled = trainModel(data, { model: 'einmf', hyper: small.einmf, epochs: 3, threads: 2 }, backend, {
      signal: controller.signal,
      onEpochProgress: () => controller.abort('cancelled by the test'),
    });
    await expect(cancelled).rejects.toBeInstanceOf(TrainingAborted);
    expect(liveWorkerThreads()).toBe(0);

    const failing = trainModel(data, { model: 'neumf', hyper: small.neumf, epochs: 2, threads: 2 }, backend, {
      onProgress: (p) => {
        if (p.epoch === 1) throw new Error('progress store down');
      },
    });
    await expect(failing).rejects.toThrow('progress store down');
    expect(liveWorkerThreads()).toBe(0);

    // A twin built on other data finds another input in the shared kernel memory and refuses.
    const m = new EinmfModel(data.userIds.length, data.itemIds.length, { factors: 16 });
    m.attach(data);
    m.optimizer = createOptimizer('adam', { lr: 0.01 });
    const other = syntheticInteractions({ users: 500, items: 400, density: 0.06, seed: 34 });
    await expect(startShards(m, other, 2)).rejects.toThrow(/another input|data does not match/);
    expect(liveWorkerThreads()).toBe(0);
    expect(tf.memory().numTensors).toBe(tensors);
  }, 600_000);

  it('DMF trains on one thread whatever is asked (its updates are not sparse), exactly as with one thread asked', async () => {
    const fitWith = async (threads: number) => {
      const m = createModel('dmf', data.userIds.length, data.itemIds.length, small.dmf);
      const fit = await m.fit(data, { epochs: 1, threads });
      return { fit, scores: m.scorePairs(Int32Array.from({ length: 300 }, (_, k) => k % 500), Int32Array.from({ length: 300 }, (_, k) => (k * 7) % 400)) };
    };
    const two = await fitWith(2);
    expect(two.fit.threads).toBeUndefined();
    expect(liveWorkerThreads()).toBe(0);
    // Nothing of the threaded set-up (a lower β1, shared moments) may touch a model that trains alone.
    expect(two.scores).toEqual((await fitWith(1)).scores);
  }, 600_000);

  it('a learner and its twin taking turns train exactly as one learner: one Adam state, shared', () => {
    const lr = 0.01;
    const solo = new EinmfModel(data.userIds.length, data.itemIds.length, { factors: 16, dropout: 0 });
    solo.attach(data);
    solo.optimizer = createOptimizer('adam', { lr, beta1: asyncMomentum(0.9, 2) });
    const main = new EinmfModel(data.userIds.length, data.itemIds.length, { factors: 16, dropout: 0 });
    main.attach(data);
    main.optimizer = createOptimizer('adam', { lr });
    const twin = buildReplica(twinData(main, data, 2)!);
    const inst = epochOf(3);
    for (let b = 0; b < 12; b++) {
      const s = b * 256;
      const batch = { size: 256, user: inst.user.subarray(s, s + 256), item: inst.item.subarray(s, s + 256), label: inst.label.subarray(s, s + 256), explicit: inst.explicit.subarray(s, s + 256) };
      solo.trainBatch(batch);
      (b % 2 === 0 ? main : twin).trainBatch(batch);
    }
    main.params().forEach((p, k) => expect(Array.from(p.data), p.name).toEqual(Array.from(solo.params()[k].data)));
  });

  it('a model trained on two threads saves and loads with identical scores', async () => {
    const m = createModel('einmf', data.userIds.length, data.itemIds.length, small.einmf);
    const fit = await m.fit(data, { epochs: 1, threads: 2 });
    expect(fit.threads).toBe(2);
    const { dir, cleanup } = tempDir();
    try {
      await saveModel(m, dir);
      const loaded = await loadModel(dir);
      const users = Int32Array.from({ length: 300 }, (_, k) => k % 500);
      const items = Int32Array.from({ length: 300 }, (_, k) => (k * 7) % 400);
      expect(loaded.scorePairs(users, items)).toEqual(m.scorePairs(users, items));
    } finally {
      cleanup();
    }
  }, 600_000);
});

describe('how many threads train', () => {
  it("lowers Adam's β1 by the momentum asynchrony adds (1 − 1/threads)", () => {
    expect(asyncMomentum(0.9, 1)).toBe(0.9);
    expect(asyncMomentum(0.9, 2)).toBeCloseTo(0.4);
    expect(asyncMomentum(0.9, 4)).toBeCloseTo(0.15);
    expect(asyncMomentum(0.9, 16)).toBe(0);
  });

  it('auto: every core, less the spare ones, at least one, and one for small data', () => {
    expect(trainingThreads('auto', 100_000, 0, 2)).toBe(2);
    expect(trainingThreads('auto', 100_000, 1, 2)).toBe(1);
    expect(trainingThreads('auto', 100_000, 1, 8)).toBe(7);
    expect(trainingThreads('auto', 100_000, 4, 2)).toBe(1);
    expect(trainingThreads('auto', 19_999, 0, 8)).toBe(1);
  });

  it('a number is taken as given', () => {
    expect(trainingThreads(3, 10, 1, 2)).toBe(3);
  });
});
