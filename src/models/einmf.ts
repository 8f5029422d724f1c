import * as tf from '@tensorflow/tfjs-core';
import { nItems, nUsers, toCsr, type Csr, type Interactions } from '../data/interactions.js';
import { Rng } from '../data/rng.js';
import type { FitOptions, FitSummary, Hyper, ModelState, RecModel, ServingEmbeddings } from './model.js';
import { stripUndefined } from './ncf-model.js';
import { DenseTower } from './nn/dense-tower.js';
import { bceWithLogits, sigmoid } from './nn/math.js';
import { createOptimizer, type Optimizer } from './nn/optimizer.js';
import { initLecun, initNormal, Param } from './nn/param.js';
import { FeedbackBag } from './nn/feedback-bag.js';
import { inverseSqrtRowCounts, uniqueIds } from './nn/sparse-linear.js';
import { arraysToCsr, arraysToParams, csrToArrays, paramsToArrays } from './nn/state.js';
import { trainPointwise, type LearnerRecipe, type PointwiseBatch, type PointwiseLearner } from './nn/train-loop.js';

export interface EinmfHyper {
  /** Latent size k of P_u and Q_i; the MLP tower is 2k → k → k/2 → k/4. */
  factors: number;
  negatives: number;
  batchSize: number;
  /**
   * The paper uses 1e-4 with many epochs; 1e-3 reaches the same validation HR@10 in the
   * ~10–20 epochs a retrain can afford here (deviation, measured in docs/benchmarks.md).
   */
  lr: number;
  /** η in L = η·L_I + (1 − η)·L_E (eq. 16). */
  eta: number;
  dropout: number;
  seed: number;
}

export const EINMF_DEFAULTS: EinmfHyper = { factors: 64, negatives: 4, batchSize: 1024, lr: 0.001, eta: 0.6, dropout: 0.2, seed: 42 };

/**
 * One side (users or items) of EINMF's input: the explicit row R_u (rating / max R) and the
 * implicit row IR_u (1 per interaction), eqs. (7)–(8), each multiplied by its own embedding
 * matrix and added: P_u = R_u·W_E + IR_u·W_I (the paper's p(E) ⊕ p(I), "added to complement
 * each other"). Deviation: both rows are scaled by 1/√|row| (SVD++'s normalisation) so that
 * heavy users do not get vectors many times longer than light ones.
 */
class EinmfSide {
  readonly bag: FeedbackBag;
  readonly scratch: Int32Array;

  constructor(
    name: string,
    readonly rowsE: Csr,
    factors: number,
    rng: Rng,
    simd: boolean,
  ) {
    this.bag = FeedbackBag.create(name, rowsE, inverseSqrtRowCounts(rowsE), factors, (p) => initNormal(p, rng), simd);
    this.scratch = new Int32Array(rowsE.rows).fill(-1);
  }

  params(): Param[] {
    return [this.bag.explicit, this.bag.implicit];
  }

  vectors(rows: ArrayLike<number>): Float32Array {
    const out = new Float32Array(rows.length * this.bag.outSize);
    this.bag.forward(rows, out);
    return out;
  }

  backward(rows: ArrayLike<number>, dOut: Float32Array, opt: Optimizer): void {
    const grads = this.bag.backward(rows, dOut);
    opt.applySparse(this.bag.explicit, grads.explicit);
    opt.applySparse(this.bag.implicit, grads.implicit);
  }
}

/** R (rating / max R, 0 where unrated) in the sparsity pattern of IR (1 per observed pair, implied). */
function explicitMatrix(train: Interactions, orientation: 'byUser' | 'byItem'): Csr {
  const IR = toCsr(train, orientation);
  const explicit = toCsr({ ...train, implicit: new Float32Array(train.implicit.length) }, orientation);
  return { ...IR, values: explicit.values.map((v) => v / train.ratingMax) };
}

/**
 * EINMF (explicit–implicit neural MF): P_u and Q_i from both feedback matrices, a GMF branch
 * P_u ⊙ Q_i and an MLP branch on [P_u ; Q_i] (eqs. 9–10), one sigmoid output over both (eq. 11),
 * trained on the hybrid loss η·L_I + (1 − η)·L_E (eqs. 14–16): L_I is log loss on the binary
 * interaction label, L_E cross-entropy against rating / max R. Both losses share one prediction,
 * so their sum is one cross-entropy against the blended target η·label + (1 − η)·r/max R; pairs
 * with only implicit feedback contribute L_I alone.
 */
export class EinmfModel implements RecModel, PointwiseLearner {
  readonly name = 'einmf' as const;
  readonly config: EinmfHyper;
  private user: EinmfSide | null = null;
  private item: EinmfSide | null = null;
  readonly tower: DenseTower;
  readonly h: Param;
  readonly bias: Param;
  /** Set by fit(); tests swap in a recording optimizer to check gradients. */
  optimizer: Optimizer | null = null;
  /** Run the bags in WebAssembly SIMD where available (read when data is attached); tests check the JS path with false. */
  simdBags = true;
  private rng: Rng;
  private cache: { user: Float32Array; item: Float32Array } | null = null;

  constructor(
    readonly nUsers: number,
    readonly nItems: number,
    hyper: Partial<EinmfHyper> = {},
  ) {
    this.config = { ...EINMF_DEFAULTS, ...stripUndefined(hyper) };
    const k = this.config.factors;
    if (k < 4 || k % 4 !== 0) throw new Error('einmf: factors must be a multiple of 4');
    this.rng = new Rng(this.config.seed);
    this.tower = new DenseTower('mlp.tower', [2 * k, k, k / 2, k / 4], this.rng, 'glorot');
    this.h = initLecun(new Param('out.h', k + k / 4, 1), this.rng);
    this.bias = new Param('out.b', 1, 1);
  }

  get hyper(): Hyper {
    return { ...this.config };
  }

  /** The feedback matrices are the model's input, so they are part of it (like DMF's Y). */
  attach(train: Interactions): void {
    if (nUsers(train) !== this.nUsers || nItems(train) !== this.nItems) throw new Error('einmf: data does not match the model size');
    this.build(explicitMatrix(train, 'byUser'), explicitMatrix(train, 'byItem'));
  }

  private build(uR: Csr, iR: Csr): void {
    const rng = new Rng(this.config.seed + 1);
    this.user = new EinmfSide('user', uR, this.config.factors, rng, this.simdBags);
    this.item = new EinmfSide('item', iR, this.config.factors, rng, this.simdBags);
    this.cache = null;
  }

  private sides(): [EinmfSide, EinmfSide] {
    if (!this.user || !this.item) throw new Error('einmf: no feedback matrices attached (fit or setState first)');
    return [this.user, this.item];
  }

  params(): Param[] {
    const [u, i] = this.sides();
    return [...u.params(), ...i.params(), ...this.tower.params(), this.h, this.bias];
  }

  paramsChanged(): void {
    this.cache = null;
  }

  replica(): LearnerRecipe {
    return { kind: 'model', name: this.name, nUsers: this.nUsers, nItems: this.nItems, hyper: this.hyper };
  }

  forkRandom(stream: number): void {
    this.rng = new Rng((this.config.seed + Math.imul(stream, 0x9e3779b1)) >>> 0);
  }

  async fit(train: Interactions, options: FitOptions): Promise<FitSummary> {
    this.attach(train);
    this.optimizer = createOptimizer('adam', { lr: this.config.lr });
    const { negatives, batchSize, seed } = this.config;
    return trainPointwise(this, train, { negatives, batchSize, order: 'groups' }, new Rng(seed + 2), options);
  }

  /** Logits from per-instance P and Q rows (`n × k` each). */
  private logits(P: Float32Array, Q: Float32Array, n: number, dropout: number) {
    const k = this.config.factors;
    const x = new Float32Array(n * 2 * k);
    for (let s = 0; s < n; s++) {
      x.set(P.subarray(s * k, (s + 1) * k), s * 2 * k);
      x.set(Q.subarray(s * k, (s + 1) * k), s * 2 * k + k);
    }
    const pass = this.tower.forward(x, n, dropout, this.rng);
    const h = this.h.data;
    const L = k / 4;
    const z = new Float64Array(n).fill(this.bias.data[0]);
    for (let s = 0; s < n; s++) {
      let acc = 0;
      for (let f = 0; f < k; f++) acc += h[f] * P[s * k + f] * Q[s * k + f];
      for (let f = 0; f < L; f++) acc += h[k + f] * pass.out[s * L + f];
      z[s] += acc;
    }
    return { z, pass };
  }

  trainBatch(batch: PointwiseBatch): number {
    const opt = this.optimizer;
    if (!opt) throw new Error('einmf: fit() sets the optimizer');
    const [userSide, itemSide] = this.sides();
    const { eta, factors: k, dropout } = this.config;
    this.cache = null;
    return tf.tidy(() => {
      const n = batch.size;
      const us = uniqueIds(batch.user, userSide.scratch);
      const is = uniqueIds(batch.item, itemSide.scratch);
      const Pu = userSide.vectors(us.ids);
      const Qi = itemSide.vectors(is.ids);
      const P = expand(Pu, us.position, k);
      const Q = expand(Qi, is.position, k);
      const { z, pass } = this.logits(P, Q, n, dropout);
      const g = new Float32Array(n);
      let loss = 0;
      let dbias = 0;
      for (let s = 0; s < n; s++) {
        const e = batch.explicit[s];
        const hasExplicit = batch.label[s] === 0 || !Number.isNaN(e);
        const w = hasExplicit ? 1 : eta;
        const t = hasExplicit ? eta * batch.label[s] + (1 - eta) * (batch.label[s] > 0 ? e : 0) : batch.label[s];
        loss += w * bceWithLogits(z[s], t);
        g[s] = (w * (sigmoid(z[s]) - t)) / n;
        dbias += g[s];
      }
      const L = k / 4;
      const h = this.h.data;
      const dh = new Float32Array(k + L);
      const dOut = new Float32Array(n * L);
      const dP = new Float32Array(n * k);
      const dQ = new Float32Array(n * k);
      for (let s = 0; s < n; s++) {
        const gs = g[s];
        for (let f = 0; f < k; f++) {
          const p = P[s * k + f];
          const q = Q[s * k + f];
          dh[f] += gs * p * q;
          dP[s * k + f] = gs * h[f] * q;
          dQ[s * k + f] = gs * h[f] * p;
        }
        for (let f = 0; f < L; f++) {
          dh[k + f] += gs * pass.out[s * L + f];
          dOut[s * L + f] = gs * h[k + f];
        }
      }
      const tg = this.tower.backward(pass, dOut, true);
      const dx = tg.dx!;
      for (let s = 0; s < n; s++) {
        for (let f = 0; f < k; f++) {
          dP[s * k + f] += dx[s * 2 * k + f];
          dQ[s * k + f] += dx[s * 2 * k + k + f];
        }
      }
      opt.beginStep();
      this.tower.layers.forEach((layer, l) => {
        opt.applyDense(layer.W, tg.dW[l]);
        opt.applyDense(layer.b, tg.db[l]);
      });
      opt.applyDense(this.h, dh);
      opt.applyDense(this.bias, Float32Array.of(dbias));
      userSide.backward(us.ids, reduceRows(dP, us.position, us.ids.length, k), opt);
      itemSide.backward(is.ids, reduceRows(dQ, is.position, is.ids.length, k), opt);
      return loss;
    });
  }

  private vectors(): { user: Float32Array; item: Float32Array } {
    if (!this.cache) {
      const [u, i] = this.sides();
      const all = (n: number): Int32Array => Int32Array.from({ length: n }, (_, r) => r);
      this.cache = { user: u.vectors(all(this.nUsers)), item: i.vectors(all(this.nItems)) };
    }
    return this.cache;
  }

  scorePairs(users: Int32Array, items: Int32Array): Float32Array {
    const v = this.vectors();
    const k = this.config.factors;
    const out = new Float32Array(users.length);
    const chunk = 16_384;
    for (let start = 0; start < users.length; start += chunk) {
      const end = Math.min(users.length, start + chunk);
      const P = expand(v.user, users.subarray(start, end), k);
      const Q = expand(v.item, items.subarray(start, end), k);
      tf.tidy(() => {
        const { z } = this.logits(P, Q, end - start, 0);
        for (let s = 0; s < z.length; s++) out[start + s] = sigmoid(z[s]);
      });
    }
    return out;
  }

  /** P for an arbitrary user row (fold-in of a user added after training). */
  userVectorFor(itemIds: Int32Array, ratings: Float32Array, ratingMax: number): Float32Array {
    const [u] = this.sides();
    const n = itemIds.length;
    const indptr = Int32Array.of(0, n);
    const scale = Float32Array.of(n ? 1 / Math.sqrt(n) : 0);
    const row: Csr = { rows: 1, cols: this.nItems, indptr, indices: itemIds, values: ratings.map((r) => (Number.isNaN(r) ? 0 : r / ratingMax)) };
    const out = new Float32Array(this.config.factors);
    // One row: the JS loop, not a WebAssembly instance of its own.
    new FeedbackBag(u.bag.explicit, u.bag.implicit, row, scale).forward([0], out);
    return out;
  }

  /** GMF part as a dot product (h folded into the user side); the MLP branch needs reranking. */
  embeddings(): ServingEmbeddings {
    const v = this.vectors();
    const k = this.config.factors;
    const user = v.user.slice();
    for (let u = 0; u < this.nUsers; u++) for (let f = 0; f < k; f++) user[u * k + f] *= this.h.data[f];
    return { kind: 'dot', exact: false, user: { rows: this.nUsers, cols: k, data: user }, item: { rows: this.nItems, cols: k, data: v.item.slice() } };
  }

  getState(): ModelState {
    const [u, i] = this.sides();
    return {
      arrays: {
        ...paramsToArrays(this.params()),
        ...csrToArrays('R.byUser', u.rowsE),
        ...csrToArrays('R.byItem', i.rowsE),
      },
      meta: { nUsers: this.nUsers, nItems: this.nItems },
    };
  }

  setState(state: ModelState): void {
    // IR has R's sparsity pattern with every value 1, so only R is stored.
    this.build(arraysToCsr(state, 'R.byUser', this.nUsers, this.nItems), arraysToCsr(state, 'R.byItem', this.nItems, this.nUsers));
    arraysToParams(this.params(), state);
  }
}

/** Row `position[s]` of `rows` for each instance s. */
function expand(rows: Float32Array, position: ArrayLike<number>, k: number): Float32Array {
  const out = new Float32Array(position.length * k);
  for (let s = 0; s < position.length; s++) out.set(rows.subarray(position[s] * k, (position[s] + 1) * k), s * k);
  return out;
}

/** Sums per-instance gradient rows into per-distinct-id rows. */
function reduceRows(grad: Float32Array, position: Int32Array, distinct: number, k: number): Float32Array {
  const out = new Float32Array(distinct * k);
  for (let s = 0; s < position.length; s++) {
    const o = position[s] * k;
    for (let f = 0; f < k; f++) out[o + f] += grad[s * k + f];
  }
  return out;
}
