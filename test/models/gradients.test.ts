import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/rng.js';
import { syntheticInteractions } from '../../src/data/synthetic.js';
import { initBackend } from '../../src/models/backend.js';
import { DmfModel } from '../../src/models/dmf.js';
import { EinmfModel } from '../../src/models/einmf.js';
import { NeumfModel } from '../../src/models/neumf.js';
import { createOptimizer } from '../../src/models/nn/optimizer.js';
import type { Param } from '../../src/models/nn/param.js';
import type { PointwiseBatch, PointwiseLearner } from '../../src/models/nn/train-loop.js';
import { buildReplica } from '../../src/models/parallel/replica.js';
import { twinData } from '../../src/models/parallel/shard-pool.js';
import { RecordingOptimizer } from '../helpers/models.js';

const data = syntheticInteractions({ users: 12, items: 20, density: 0.3, seed: 11 });

function batch(rng: Rng, n = 8, implicitOnly = true): PointwiseBatch {
  const user = Int32Array.from({ length: n }, () => rng.int(12));
  const item = Int32Array.from({ length: n }, () => rng.int(20));
  const label = Float32Array.from({ length: n }, (_, k) => (k % 2 === 0 ? 1 : 0));
  // Mixed targets: rated positives, one unrated (implicit-only) positive, negatives.
  const explicit = Float32Array.from({ length: n }, (_, k) => (k % 2 === 1 ? 0 : k === 2 && implicitOnly ? NaN : 0.2 + 0.1 * k));
  return { size: n, user, item, label, explicit };
}

/** Scales parameters up from their tiny initialisation so gradients are not all ~0. */
function spread(params: Param[], rng: Rng, std = 0.3): void {
  for (const p of params) for (let k = 0; k < p.data.length; k++) p.data[k] = p.data[k] * 10 + rng.normal() * std;
}

/**
 * Compares the gradient a learner hands its optimizer with central differences of the loss it
 * reports, on entries of every parameter that the batch touches.
 */
function checkGradients(learner: PointwiseLearner, setOptimizer: (o: RecordingOptimizer) => void, b: PointwiseBatch): number {
  const rec = new RecordingOptimizer();
  setOptimizer(rec);
  learner.trainBatch(b);
  const analytic = new Map(rec.grads);
  const rng = new Rng(3);
  const eps = 3e-3;
  let checked = 0;
  for (const p of learner.params()) {
    const g = analytic.get(p);
    expect(g, `no gradient for ${p.name}`).toBeDefined();
    const nonzero = Array.from(g!.keys()).filter((k) => g![k] !== 0);
    const picks = [...Array.from({ length: Math.min(4, nonzero.length) }, () => nonzero[rng.int(nonzero.length)]), rng.int(p.size)];
    for (const k of picks) {
      const orig = p.data[k];
      p.data[k] = orig + eps;
      learner.paramsChanged?.();
      const up = learner.trainBatch(b);
      p.data[k] = orig - eps;
      learner.paramsChanged?.();
      const down = learner.trainBatch(b);
      p.data[k] = orig;
      learner.paramsChanged?.();
      const numeric = (up - down) / (2 * eps * b.size);
      expect(Math.abs(numeric - g![k]), `${p.name}[${k}]: numeric ${numeric} vs analytic ${g![k]}`).toBeLessThan(2e-3 + 0.05 * Math.abs(numeric));
      checked++;
    }
  }
  return checked;
}

describe('analytic gradients match finite differences', () => {
  beforeAll(async () => {
    await initBackend('auto');
  });

  it('NeuMF (GMF and MLP branches, sparse embedding rows)', () => {
    const m = new NeumfModel(12, 20, { factors: 8, mlpLayers: 2, seed: 1 });
    spread(m.net.params(), new Rng(1));
    expect(checkGradients(m.net, (o) => (m.net.optimizer = o), batch(new Rng(5)))).toBeGreaterThan(30);
  });

  it.each([
    ['WebAssembly SIMD first layer', true],
    ['JS first layer', false],
  ])('DMF (sparse first layer, tower, clipped cosine, NCE targets), %s', (_path, simd) => {
    const m = new DmfModel(12, 20, { layers: [16, 8], seed: 1 });
    m.simdFirstLayer = simd;
    m.attach(data);
    spread(m.params(), new Rng(2));
    expect(checkGradients(m, (o) => (m.optimizer = o), batch(new Rng(6), 8, false))).toBeGreaterThan(20);
  });

  it.each([
    ['WebAssembly SIMD bags', true],
    ['JS bags', false],
  ])('EINMF (explicit + implicit bags, GMF + MLP, hybrid loss), %s', (_path, simd) => {
    const m = new EinmfModel(12, 20, { factors: 8, dropout: 0, seed: 1 });
    m.simdBags = simd;
    m.attach(data);
    spread(m.params(), new Rng(3), 0.1);
    expect(checkGradients(m, (o) => (m.optimizer = o), batch(new Rng(7)))).toBeGreaterThan(30);
  });

  /**
   * The twin a training thread builds (shard-worker.ts), here built in this thread: kernels
   * adopted from the main learner's shared memory, plain weights bound to its shared buffers.
   */
  function twinOf(learner: PointwiseLearner): PointwiseLearner {
    learner.optimizer = createOptimizer('adam', { lr: 0.001 });
    const workerData = twinData(learner, data, 2);
    expect(workerData).not.toBeNull();
    return buildReplica(workerData!);
  }

  /** The twin reads and writes the learner's weights, and computes the same gradients as the learner. */
  function checkTwin(learner: PointwiseLearner, twin: PointwiseLearner, b: PointwiseBatch): void {
    const mine = learner.params();
    const theirs = twin.params();
    expect(theirs.map((p) => p.name)).toEqual(mine.map((p) => p.name));
    mine.forEach((p, k) => {
      p.data[p.size - 1] += 0.5;
      expect(theirs[k].data[p.size - 1], `${p.name} is shared`).toBe(p.data[p.size - 1]);
    });
    const [a, z] = [new RecordingOptimizer(), new RecordingOptimizer()];
    learner.optimizer = a;
    twin.optimizer = z;
    expect(twin.trainBatch(b)).toBeCloseTo(learner.trainBatch(b), 4);
    for (const [k, p] of mine.entries()) expect(Array.from(z.grads.get(theirs[k])!), p.name).toEqual(Array.from(a.grads.get(p)!));
  }

  it.each([
    ['WebAssembly SIMD bags', true],
    ['JS bags', false],
  ])("EINMF on a training thread's twin (shared weights), %s", (_path, simd) => {
    const m = new EinmfModel(12, 20, { factors: 8, dropout: 0, seed: 1 });
    m.simdBags = simd;
    m.attach(data);
    spread(m.params(), new Rng(3), 0.1);
    const twin = twinOf(m);
    checkTwin(m, twin, batch(new Rng(8)));
    expect(checkGradients(twin, (o) => (twin.optimizer = o), batch(new Rng(7)))).toBeGreaterThan(30);
  });

  it("NeuMF on a training thread's twin (shared weights)", () => {
    const m = new NeumfModel(12, 20, { factors: 8, mlpLayers: 2, seed: 1 });
    spread(m.net.params(), new Rng(1));
    const twin = twinOf(m.net);
    checkTwin(m.net, twin, batch(new Rng(10)));
    expect(checkGradients(twin, (o) => (twin.optimizer = o), batch(new Rng(5)))).toBeGreaterThan(30);
  });
});
