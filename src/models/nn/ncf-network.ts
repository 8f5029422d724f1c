import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../../data/rng.js';
import { DenseTower } from './dense-tower.js';
import { bceWithLogits, gatherRows, sigmoid } from './math.js';
import type { Optimizer } from './optimizer.js';
import { initLecun, initNormal, Param, RowGradAccumulator } from './param.js';
import type { LearnerRecipe, PointwiseBatch, PointwiseLearner } from './train-loop.js';

export interface NcfConfig {
  nUsers: number;
  nItems: number;
  /** GMF embedding size; 0 turns the GMF branch off. */
  gmfFactors: number;
  /**
   * MLP tower sizes `[input, hidden…, predictive factors]`; the input is the concatenation of
   * a user and an item embedding of `input / 2` each. Empty turns the MLP branch off.
   */
  mlpLayers: readonly number[];
}

/**
 * The neural collaborative filtering network of He et al. (2017): a GMF branch (element-wise
 * product of user and item embeddings) and an MLP branch (ReLU tower on concatenated
 * embeddings), each with its own embeddings, fused by one logistic output unit:
 * ŷ = σ(hᵀ[p⊙q ; MLP(p′, q′)] + b). GMF, MLP and NeuMF are this network with one or both
 * branches on. Embeddings are gathered and updated row by row in JS; only the tower runs on
 * TensorFlow.js.
 */
export class NcfNetwork implements PointwiseLearner {
  readonly gmfP: Param | null;
  readonly gmfQ: Param | null;
  readonly mlpP: Param | null;
  readonly mlpQ: Param | null;
  readonly tower: DenseTower | null;
  /** Output weights: GMF part first, then MLP part. */
  readonly h: Param;
  readonly bias: Param;
  readonly gmfSize: number;
  readonly mlpEmbedding: number;
  readonly mlpOut: number;
  optimizer: Optimizer | null = null;

  private readonly grads: Map<Param, RowGradAccumulator> = new Map();

  constructor(
    readonly config: NcfConfig,
    rng: Rng,
  ) {
    const { nUsers, nItems, gmfFactors, mlpLayers } = config;
    if (gmfFactors <= 0 && mlpLayers.length === 0) throw new Error('NCF needs a GMF or an MLP branch');
    if (mlpLayers.length === 1 || (mlpLayers.length > 0 && mlpLayers[0] % 2 !== 0)) {
      throw new Error('mlpLayers must be [even input size, hidden…, output]');
    }
    this.gmfSize = gmfFactors;
    this.mlpEmbedding = mlpLayers.length ? mlpLayers[0] / 2 : 0;
    this.mlpOut = mlpLayers.length ? mlpLayers[mlpLayers.length - 1] : 0;
    // NCF initialises embeddings and layers with N(0, 0.01) and the output unit LeCun-uniform.
    this.gmfP = gmfFactors ? initNormal(new Param('gmf.P', nUsers, gmfFactors), rng) : null;
    this.gmfQ = gmfFactors ? initNormal(new Param('gmf.Q', nItems, gmfFactors), rng) : null;
    this.mlpP = this.mlpEmbedding ? initNormal(new Param('mlp.P', nUsers, this.mlpEmbedding), rng) : null;
    this.mlpQ = this.mlpEmbedding ? initNormal(new Param('mlp.Q', nItems, this.mlpEmbedding), rng) : null;
    // Deviation: Glorot instead of N(0, 0.01) for the tower. With three ReLU layers at std 0.01
    // the signal shrinks ~100× per layer and the MLP branch barely trains in the epochs we run.
    this.tower = mlpLayers.length ? new DenseTower('mlp.tower', mlpLayers, rng, 'glorot') : null;
    this.h = initLecun(new Param('out.h', this.gmfSize + this.mlpOut, 1), rng);
    this.bias = new Param('out.b', 1, 1);
    for (const p of [this.gmfP, this.gmfQ, this.mlpP, this.mlpQ]) {
      if (p) this.grads.set(p, new RowGradAccumulator(p.rows, p.cols));
    }
  }

  replica(): LearnerRecipe {
    return { kind: 'ncf', config: this.config };
  }

  params(): Param[] {
    const list = [this.gmfP, this.gmfQ, this.mlpP, this.mlpQ].filter((p): p is Param => p !== null);
    return [...list, ...(this.tower?.params() ?? []), this.h, this.bias];
  }

  /** Logits for pairs, with what the backward pass needs when `keep` is set. */
  private forward(users: Int32Array, items: Int32Array) {
    const n = users.length;
    const F = this.gmfSize;
    const logits = new Float32Array(n).fill(this.bias.data[0]);
    const h = this.h.data;
    let gp: Float32Array | null = null;
    let gq: Float32Array | null = null;
    if (this.gmfP && this.gmfQ) {
      gp = new Float32Array(n * F);
      gq = new Float32Array(n * F);
      gatherRows(this.gmfP.data, F, users, gp);
      gatherRows(this.gmfQ.data, F, items, gq);
      for (let s = 0; s < n; s++) {
        let z = 0;
        for (let f = 0; f < F; f++) z += h[f] * gp[s * F + f] * gq[s * F + f];
        logits[s] += z;
      }
    }
    let pass = null;
    if (this.tower && this.mlpP && this.mlpQ) {
      const E = this.mlpEmbedding;
      const x = new Float32Array(n * 2 * E);
      gatherRows(this.mlpP.data, E, users, x, 2 * E, 0);
      gatherRows(this.mlpQ.data, E, items, x, 2 * E, E);
      pass = this.tower.forward(x, n);
      const out = pass.out;
      const L = this.mlpOut;
      for (let s = 0; s < n; s++) {
        let z = 0;
        for (let f = 0; f < L; f++) z += h[F + f] * out[s * L + f];
        logits[s] += z;
      }
    }
    return { logits, gp, gq, pass };
  }

  scorePairs(users: Int32Array, items: Int32Array): Float32Array {
    const out = new Float32Array(users.length);
    const chunk = 16_384;
    for (let start = 0; start < users.length; start += chunk) {
      const end = Math.min(users.length, start + chunk);
      const logits = tf.tidy(() => this.forward(users.subarray(start, end), items.subarray(start, end)).logits);
      for (let k = 0; k < logits.length; k++) out[start + k] = sigmoid(logits[k]);
    }
    return out;
  }

  trainBatch(batch: PointwiseBatch): number {
    const opt = this.optimizer;
    if (!opt) throw new Error('NcfNetwork: set an optimizer before training');
    return tf.tidy(() => {
      const { user, item, label, size: n } = batch;
      const { logits, gp, gq, pass } = this.forward(user, item);
      const F = this.gmfSize;
      const L = this.mlpOut;
      const h = this.h.data;
      // d(mean log loss)/d logit = (σ(z) − y) / n
      const g = new Float32Array(n);
      const dh = new Float32Array(F + L);
      let loss = 0;
      let dbias = 0;
      for (let s = 0; s < n; s++) {
        loss += bceWithLogits(logits[s], label[s]);
        g[s] = (sigmoid(logits[s]) - label[s]) / n;
        dbias += g[s];
      }
      opt.beginStep();
      if (gp && gq && this.gmfP && this.gmfQ) {
        const accP = this.grads.get(this.gmfP)!;
        const accQ = this.grads.get(this.gmfQ)!;
        for (let s = 0; s < n; s++) {
          const gs = g[s];
          const offP = accP.slot(user[s]);
          const offQ = accQ.slot(item[s]);
          const bp = accP.buffer;
          const bq = accQ.buffer;
          for (let f = 0; f < F; f++) {
            const p = gp[s * F + f];
            const q = gq[s * F + f];
            dh[f] += gs * p * q;
            bp[offP + f] += gs * h[f] * q;
            bq[offQ + f] += gs * h[f] * p;
          }
        }
      }
      if (pass && this.tower && this.mlpP && this.mlpQ) {
        const out = pass.out;
        const dOut = new Float32Array(n * L);
        for (let s = 0; s < n; s++) {
          for (let f = 0; f < L; f++) {
            dh[F + f] += g[s] * out[s * L + f];
            dOut[s * L + f] = g[s] * h[F + f];
          }
        }
        const tg = this.tower.backward(pass, dOut, true);
        const E = this.mlpEmbedding;
        const accP = this.grads.get(this.mlpP)!;
        const accQ = this.grads.get(this.mlpQ)!;
        for (let s = 0; s < n; s++) {
          accP.add(user[s], tg.dx!, s * 2 * E);
          accQ.add(item[s], tg.dx!, s * 2 * E + E);
        }
        this.tower.layers.forEach((layer, l) => {
          opt.applyDense(layer.W, tg.dW[l]);
          opt.applyDense(layer.b, tg.db[l]);
        });
      }
      opt.applyDense(this.h, dh);
      opt.applyDense(this.bias, Float32Array.of(dbias));
      for (const [p, acc] of this.grads) {
        opt.applySparse(p, acc.take());
        acc.reset();
      }
      return loss;
    });
  }
}
