import * as tf from '@tensorflow/tfjs-core';
import { nItems, nUsers, strength, toCsr, type Csr, type Interactions } from '../data/interactions.js';
import { Rng } from '../data/rng.js';
import type { FitOptions, FitSummary, Hyper, ModelState, RecModel, ServingEmbeddings } from './model.js';
import { stripUndefined } from './ncf-model.js';
import { DenseTower } from './nn/dense-tower.js';
import { createOptimizer, type Optimizer } from './nn/optimizer.js';
import { initNormal, Param } from './nn/param.js';
import { SparseLinear, uniqueIds } from './nn/sparse-linear.js';
import { arraysToCsr, arraysToParams, csrToArrays, paramsToArrays } from './nn/state.js';
import { trainPointwise, type PointwiseBatch, type PointwiseLearner } from './nn/train-loop.js';

export interface DmfHyper {
  /**
   * Tower sizes after the input row; the last is the latent space (DMF-2: two layers, 64 factors).
   * The paper does not give the hidden size; 128 halves the cost of the sparse first layer,
   * which dominates training time (docs/benchmarks.md), against 256.
   */
  layers: readonly number[];
  /** Negatives per positive: 7 in the DMF paper's experiments. */
  negatives: number;
  batchSize: number;
  lr: number;
  /** μ in eq. 13: predictions are clipped to [μ, 1 − μ] before the log loss. */
  mu: number;
  seed: number;
}

export const DMF_DEFAULTS: DmfHyper = { layers: [128, 64], negatives: 7, batchSize: 256, lr: 0.001, mu: 1e-6, seed: 42 };

/** One side of DMF: sparse first layer on the interaction row, then a dense ReLU tower. */
class DmfSide {
  readonly first: SparseLinear;
  readonly firstBias: Param;
  readonly tower: DenseTower | null;
  readonly scratch: Int32Array;

  constructor(
    name: string,
    readonly input: Csr,
    layers: readonly number[],
    rng: Rng,
    simd: boolean,
  ) {
    this.first = SparseLinear.create(`${name}.W1`, input, null, layers[0], (p) => initNormal(p, rng), simd);
    this.firstBias = new Param(`${name}.b1`, 1, layers[0]);
    this.tower = layers.length > 1 ? new DenseTower(`${name}.tower`, layers, rng, 'normal') : null;
    this.scratch = new Int32Array(input.rows).fill(-1);
  }

  params(): Param[] {
    return [this.first.weight, this.firstBias, ...(this.tower?.params() ?? [])];
  }

  get outSize(): number {
    return this.tower ? this.tower.outputSize : this.first.outSize;
  }

  /** Latent vectors of `rows`; keeps what backward needs. */
  forward(rows: Int32Array) {
    const h1 = this.first.outSize;
    const z1 = new Float32Array(rows.length * h1);
    this.first.forward(rows, z1, this.firstBias.data);
    const a1 = z1.map((v) => (v > 0 ? v : 0));
    const pass = this.tower ? this.tower.forward(a1, rows.length) : null;
    return { rows, a1, pass, out: pass ? pass.out : a1 };
  }

  backward(f: ReturnType<DmfSide['forward']>, dOut: Float32Array, opt: Optimizer): void {
    let dA1 = dOut;
    if (this.tower && f.pass) {
      const g = this.tower.backward(f.pass, dOut, true);
      this.tower.layers.forEach((layer, l) => {
        opt.applyDense(layer.W, g.dW[l]);
        opt.applyDense(layer.b, g.db[l]);
      });
      dA1 = g.dx!;
    }
    const h1 = this.first.outSize;
    const dZ1 = new Float32Array(dA1.length);
    const db1 = new Float32Array(h1);
    for (let k = 0; k < dA1.length; k++) {
      if (f.a1[k] > 0) {
        dZ1[k] = dA1[k];
        db1[k % h1] += dA1[k];
      }
    }
    opt.applySparse(this.first.weight, this.first.backward(f.rows, dZ1));
    opt.applyDense(this.firstBias, db1);
  }

  /** Latent vectors for every row, in chunks. */
  all(): Float32Array {
    const out = new Float32Array(this.input.rows * this.outSize);
    const chunk = 4096;
    for (let start = 0; start < this.input.rows; start += chunk) {
      const rows = Int32Array.from({ length: Math.min(chunk, this.input.rows - start) }, (_, k) => start + k);
      const v = tf.tidy(() => this.forward(rows).out);
      out.set(v, start * this.outSize);
    }
    return out;
  }
}

/**
 * DMF (Xue et al. 2017): a user tower on the user's row of Y (ratings, 0 = unknown) and an item
 * tower on the item's column, ReLU layers, cosine similarity clipped at μ, and the normalised
 * cross-entropy loss with targets Y_ij / max(R) and sampled negatives as 0. Inputs stay sparse.
 *
 * DMF trains on one thread: it has no `replica()`, so TRAIN_THREADS does not apply. Its first
 * layers' gradients touch nearly every row of the item side's table at every step, which is not
 * the sparse case Hogwild needs: on two threads an epoch ended at a 6% higher training loss and
 * test HR@10 fell by ~0.05 after 5 epochs, even with one shared Adam state and β1 lowered for
 * asynchrony (docs/benchmarks.md).
 */
export class DmfModel implements RecModel, PointwiseLearner {
  readonly name = 'dmf' as const;
  readonly config: DmfHyper;
  private user: DmfSide | null = null;
  private item: DmfSide | null = null;
  /** Set by fit(); tests swap in a recording optimizer to check gradients. */
  optimizer: Optimizer | null = null;
  /** Run the sparse first layers in WebAssembly SIMD where available (read when data is attached); tests check the JS path with false. */
  simdFirstLayer = true;
  private cache: { user: Float32Array; item: Float32Array } | null = null;

  constructor(
    readonly nUsers: number,
    readonly nItems: number,
    hyper: Partial<DmfHyper> = {},
  ) {
    this.config = { ...DMF_DEFAULTS, ...stripUndefined(hyper) };
    if (this.config.layers.length < 1) throw new Error('DMF needs at least one layer');
  }

  get hyper(): Hyper {
    return { ...this.config };
  }

  /** The interaction matrix Y is part of the model: the towers' input. */
  attach(train: Interactions): void {
    if (nUsers(train) !== this.nUsers || nItems(train) !== this.nItems) throw new Error('dmf: data does not match the model size');
    this.build(toCsr(train, 'byUser'), toCsr(train, 'byItem'));
  }

  private build(byUser: Csr, byItem: Csr): void {
    const rng = new Rng(this.config.seed);
    this.user = new DmfSide('user', byUser, this.config.layers, rng, this.simdFirstLayer);
    this.item = new DmfSide('item', byItem, this.config.layers, rng, this.simdFirstLayer);
    this.cache = null;
  }

  private sides(): [DmfSide, DmfSide] {
    if (!this.user || !this.item) throw new Error('dmf: no interaction matrix attached (fit or setState first)');
    return [this.user, this.item];
  }

  params(): Param[] {
    const [u, i] = this.sides();
    return [...u.params(), ...i.params()];
  }

  async fit(train: Interactions, options: FitOptions): Promise<FitSummary> {
    this.attach(train);
    this.optimizer = createOptimizer('adam', { lr: this.config.lr });
    const { negatives, batchSize, seed } = this.config;
    // NCE targets Y_ij / max(R); Y holds the rating, or the capped event weight for unrated pairs.
    const targets = Float32Array.from({ length: train.user.length }, (_, k) => strength(train, k) / train.ratingMax);
    return trainPointwise(this, train, { negatives, batchSize, order: 'groups' }, new Rng(seed + 1), options, 'train', targets);
  }

  paramsChanged(): void {
    this.cache = null;
  }

  trainBatch(batch: PointwiseBatch): number {
    const [userSide, itemSide] = this.sides();
    const opt = this.optimizer!;
    this.cache = null;
    return tf.tidy(() => {
      const us = uniqueIds(batch.user, userSide.scratch);
      const is = uniqueIds(batch.item, itemSide.scratch);
      const fu = userSide.forward(us.ids);
      const fi = itemSide.forward(is.ids);
      const d = userSide.outSize;
      const dU = new Float32Array(us.ids.length * d);
      const dI = new Float32Array(is.ids.length * d);
      const { mu } = this.config;
      let loss = 0;
      for (let s = 0; s < batch.size; s++) {
        const po = us.position[s] * d;
        const qo = is.position[s] * d;
        const { cos, np, nq } = cosine(fu.out, po, fi.out, qo, d);
        // Target: the normalised rating for positives (NCE), 0 for sampled negatives.
        const t = batch.label[s] > 0 ? batch.explicit[s] : 0;
        const y = Math.min(1 - mu, Math.max(mu, cos));
        loss -= t * Math.log(y) + (1 - t) * Math.log(1 - y);
        if (cos <= mu || cos >= 1 - mu || np === 0 || nq === 0) continue; // clipped: no gradient
        const dy = ((y - t) / (y * (1 - y))) / batch.size;
        // d cos / d p = q/(|p||q|) − cos·p/|p|²
        for (let f = 0; f < d; f++) {
          const p = fu.out[po + f];
          const q = fi.out[qo + f];
          dU[po + f] += dy * (q / (np * nq) - (cos * p) / (np * np));
          dI[qo + f] += dy * (p / (np * nq) - (cos * q) / (nq * nq));
        }
      }
      opt.beginStep();
      userSide.backward(fu, dU, opt);
      itemSide.backward(fi, dI, opt);
      return loss;
    });
  }

  private vectors(): { user: Float32Array; item: Float32Array } {
    if (!this.cache) {
      const [u, i] = this.sides();
      this.cache = { user: u.all(), item: i.all() };
    }
    return this.cache;
  }

  scorePairs(users: Int32Array, items: Int32Array): Float32Array {
    const v = this.vectors();
    const d = this.sides()[0].outSize;
    const out = new Float32Array(users.length);
    for (let k = 0; k < users.length; k++) out[k] = cosine(v.user, users[k] * d, v.item, items[k] * d, d).cos;
    return out;
  }

  /** The user tower on an arbitrary rating row (fold-in for users added after training). */
  userVectorFor(itemIds: Int32Array, values: Float32Array): Float32Array {
    const [u] = this.sides();
    const row: Csr = { rows: 1, cols: this.nItems, indptr: Int32Array.of(0, itemIds.length), indices: itemIds, values };
    const side = new SparseLinear(u.first.weight, row);
    const h1 = u.first.outSize;
    const z1 = new Float32Array(h1);
    side.forward([0], z1, u.firstBias.data);
    const a1 = z1.map((x) => (x > 0 ? x : 0));
    return u.tower ? u.tower.predict(a1, 1) : a1;
  }

  embeddings(): ServingEmbeddings {
    const v = this.vectors();
    const d = this.sides()[0].outSize;
    return {
      kind: 'cosine',
      exact: true,
      user: { rows: this.nUsers, cols: d, data: v.user.slice() },
      item: { rows: this.nItems, cols: d, data: v.item.slice() },
    };
  }

  getState(): ModelState {
    const [u, i] = this.sides();
    return {
      arrays: {
        ...paramsToArrays(this.params()),
        ...csrToArrays('Y.byUser', u.input),
        ...csrToArrays('Y.byItem', i.input),
      },
      meta: { nUsers: this.nUsers, nItems: this.nItems },
    };
  }

  setState(state: ModelState): void {
    this.build(arraysToCsr(state, 'Y.byUser', this.nUsers, this.nItems), arraysToCsr(state, 'Y.byItem', this.nItems, this.nUsers));
    arraysToParams(this.params(), state);
    this.cache = null;
  }
}

function cosine(a: Float32Array, ao: number, b: Float32Array, bo: number, d: number): { cos: number; np: number; nq: number } {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let f = 0; f < d; f++) {
    const x = a[ao + f];
    const y = b[bo + f];
    ab += x * y;
    aa += x * x;
    bb += y * y;
  }
  const np = Math.sqrt(aa);
  const nq = Math.sqrt(bb);
  return { cos: np > 0 && nq > 0 ? ab / (np * nq) : 0, np, nq };
}
