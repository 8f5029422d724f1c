import { nItems, nUsers, type FeatureMatrix, type Interactions } from '../data/interactions.js';
import { Rng } from '../data/rng.js';
import type { FitOptions, FitSummary, Hyper, ModelState, RecModel, ServingEmbeddings } from './model.js';
import { stripUndefined } from './ncf-model.js';
import { bceWithLogits, sigmoid } from './nn/math.js';
import { createOptimizer, type Optimizer } from './nn/optimizer.js';
import { initNormal, Param, RowGradAccumulator } from './nn/param.js';
import { arraysToParams, paramsToArrays } from './nn/state.js';
import { trainPointwise, type LearnerRecipe, type PointwiseBatch, type PointwiseLearner } from './nn/train-loop.js';
import { composeRows, normalisedFeatures, vectorOf, type Bag, type NamedFeatures } from './hybrid-features.js';

export interface HybridHyper {
  factors: number;
  negatives: number;
  batchSize: number;
  lr: number;
  l2: number;
  /** Share of training pairs whose item is seen through its features alone (its id embedding left out), so features learn to stand in for new items. */
  idDropout: number;
  seed: number;
}

export const HYBRID_DEFAULTS: HybridHyper = { factors: 64, negatives: 4, batchSize: 256, lr: 0.002, l2: 0, idDropout: 0.2, seed: 42 };

/**
 * A hybrid factorization model in the manner of LightFM (Kula 2015): an item's vector is its id
 * embedding plus the weighted sum of its content features' embeddings (categories, labels, text
 * n-grams; weights scaled to unit length), a user's likewise with their labels; the logit is
 * their dot product plus the item's and its features' biases, fit with log loss on sampled
 * negatives (NCF's protocol) by the same sparse Adam and training threads as GMF. An item or user
 * the model never saw gets a vector from its features alone, so it can be recommended at once.
 */
export class HybridModel implements RecModel, PointwiseLearner {
  readonly name = 'hybrid' as const;
  readonly config: HybridHyper;
  P: Param;
  Q: Param;
  itemBias: Param;
  FI: Param;
  FU: Param;
  featureBias: Param;
  optimizer: Optimizer | null = null;
  private itemBags: Bag = { indptr: new Int32Array(1), indices: new Int32Array(0), values: new Float32Array(0) };
  private userBags: Bag = { indptr: new Int32Array(1), indices: new Int32Array(0), values: new Float32Array(0) };
  private itemVocabulary: readonly string[] = [];
  private userVocabulary: readonly string[] = [];
  private rng: Rng;
  private grads = new Map<Param, RowGradAccumulator>();

  constructor(
    readonly nUsers: number,
    readonly nItems: number,
    hyper: Partial<HybridHyper> = {},
  ) {
    this.config = { ...HYBRID_DEFAULTS, ...stripUndefined(hyper) };
    this.rng = new Rng(this.config.seed);
    const d = this.config.factors;
    this.P = initNormal(new Param('hybrid.P', nUsers, d), this.rng);
    this.Q = initNormal(new Param('hybrid.Q', nItems, d), this.rng);
    this.itemBias = new Param('hybrid.bI', nItems, 1);
    this.FI = new Param('hybrid.FI', 0, d);
    this.FU = new Param('hybrid.FU', 0, d);
    this.featureBias = new Param('hybrid.bF', 0, 1);
    this.resetGrads();
  }

  get hyper(): Hyper {
    return { ...this.config };
  }

  /** Takes the data's feature matrices (vocabularies, per-entity bags): what a training thread's twin needs too. */
  attach(train: Interactions): void {
    this.setFeatures(train.itemFeatures ?? null, train.userFeatures ?? null);
  }

  private setFeatures(items: FeatureMatrix | null, users: FeatureMatrix | null): void {
    if (items && items.rows !== this.nItems) throw new Error(`hybrid: ${items.rows} item feature rows for ${this.nItems} items`);
    if (users && users.rows !== this.nUsers) throw new Error(`hybrid: ${users.rows} user feature rows for ${this.nUsers} users`);
    this.itemVocabulary = items?.vocabulary ?? [];
    this.userVocabulary = users?.vocabulary ?? [];
    this.itemBags = items ? normalisedFeatures(items) : { indptr: new Int32Array(this.nItems + 1), indices: new Int32Array(0), values: new Float32Array(0) };
    this.userBags = users ? normalisedFeatures(users) : { indptr: new Int32Array(this.nUsers + 1), indices: new Int32Array(0), values: new Float32Array(0) };
    const d = this.config.factors;
    const rng = new Rng(this.config.seed + 1);
    this.FI = initNormal(new Param('hybrid.FI', this.itemVocabulary.length, d), rng);
    this.FU = initNormal(new Param('hybrid.FU', this.userVocabulary.length, d), rng);
    this.featureBias = new Param('hybrid.bF', this.itemVocabulary.length, 1);
    this.resetGrads();
  }

  private resetGrads(): void {
    this.grads = new Map(this.params().map((p) => [p, new RowGradAccumulator(p.rows, p.cols)]));
  }

  params(): Param[] {
    return [this.P, this.Q, this.itemBias, this.FI, this.FU, this.featureBias];
  }

  replica(): LearnerRecipe {
    return { kind: 'model', name: this.name, nUsers: this.nUsers, nItems: this.nItems, hyper: this.hyper };
  }

  forkRandom(stream: number): void {
    this.rng = new Rng((this.config.seed + Math.imul(stream, 0x9e3779b1)) >>> 0);
  }

  async fit(train: Interactions, options: FitOptions): Promise<FitSummary> {
    if (nUsers(train) !== this.nUsers || nItems(train) !== this.nItems) throw new Error('hybrid: data does not match the model size');
    this.attach(train);
    this.optimizer = createOptimizer('adam', { lr: this.config.lr, l2: this.config.l2 });
    return trainPointwise(this, train, { negatives: this.config.negatives, batchSize: this.config.batchSize }, new Rng(this.config.seed + 7), options, 'train');
  }

  /** The users' and items' composite vectors (id + features), and each item's bias with its features'. */
  private composites(): { users: Float32Array; items: Float32Array; bias: Float32Array } {
    const d = this.config.factors;
    const users = composeRows(this.P.data, this.FU.data, this.userBags, d);
    const items = composeRows(this.Q.data, this.FI.data, this.itemBags, d);
    const bias = composeRows(this.itemBias.data, this.featureBias.data, this.itemBags, 1);
    return { users, items, bias };
  }

  scorePairs(users: Int32Array, items: Int32Array): Float32Array {
    const d = this.config.factors;
    const out = new Float32Array(users.length);
    const p = new Float32Array(d);
    const q = new Float32Array(d);
    for (let s = 0; s < users.length; s++) {
      const b = this.compose(users[s], items[s], p, q, false);
      let z = b;
      for (let f = 0; f < d; f++) z += p[f] * q[f];
      out[s] = sigmoid(z);
    }
    return out;
  }

  /** Writes user u's and item i's composite vectors into p and q; returns the item's bias (id part dropped when `dropId`). */
  private compose(u: number, i: number, p: Float32Array, q: Float32Array, dropId: boolean): number {
    const d = this.config.factors;
    p.set(this.P.data.subarray(u * d, (u + 1) * d));
    if (dropId) q.fill(0);
    else q.set(this.Q.data.subarray(i * d, (i + 1) * d));
    let bias = dropId ? 0 : this.itemBias.data[i];
    const ub = this.userBags;
    for (let k = ub.indptr[u]; k < ub.indptr[u + 1]; k++) {
      const o = ub.indices[k] * d;
      const w = ub.values[k];
      for (let f = 0; f < d; f++) p[f] += w * this.FU.data[o + f];
    }
    const ib = this.itemBags;
    for (let k = ib.indptr[i]; k < ib.indptr[i + 1]; k++) {
      const o = ib.indices[k] * d;
      const w = ib.values[k];
      bias += w * this.featureBias.data[ib.indices[k]];
      for (let f = 0; f < d; f++) q[f] += w * this.FI.data[o + f];
    }
    return bias;
  }

  trainBatch(batch: PointwiseBatch): number {
    const opt = this.optimizer;
    if (!opt) throw new Error('hybrid: set an optimizer before training');
    const d = this.config.factors;
    const n = batch.size;
    const p = new Float32Array(d);
    const q = new Float32Array(d);
    const acc = (param: Param): RowGradAccumulator => this.grads.get(param)!;
    let loss = 0;
    opt.beginStep();
    for (let s = 0; s < n; s++) {
      const u = batch.user[s];
      const i = batch.item[s];
      const dropId = this.config.idDropout > 0 && this.itemBags.indptr[i + 1] > this.itemBags.indptr[i] && this.rng.next() < this.config.idDropout;
      let z = this.compose(u, i, p, q, dropId);
      for (let f = 0; f < d; f++) z += p[f] * q[f];
      loss += bceWithLogits(z, batch.label[s]);
      const g = (sigmoid(z) - batch.label[s]) / n;
      acc(this.P).add(u, q, 0, g);
      const ub = this.userBags;
      for (let k = ub.indptr[u]; k < ub.indptr[u + 1]; k++) acc(this.FU).add(ub.indices[k], q, 0, g * ub.values[k]);
      if (!dropId) {
        acc(this.Q).add(i, p, 0, g);
        acc(this.itemBias).buffer[acc(this.itemBias).slot(i)] += g;
      }
      const ib = this.itemBags;
      for (let k = ib.indptr[i]; k < ib.indptr[i + 1]; k++) {
        acc(this.FI).add(ib.indices[k], p, 0, g * ib.values[k]);
        const bf = acc(this.featureBias);
        bf.buffer[bf.slot(ib.indices[k])] += g * ib.values[k];
      }
    }
    for (const [param, a] of this.grads) {
      opt.applySparse(param, a.take());
      a.reset();
    }
    return loss;
  }

  embeddings(): ServingEmbeddings {
    const d = this.config.factors;
    const { users, items, bias } = this.composites();
    return { kind: 'dot', exact: true, user: { rows: this.nUsers, cols: d, data: users }, item: { rows: this.nItems, cols: d, data: items }, itemBias: bias };
  }

  /** The vector and bias of an item the model never saw, from its named features (unknown names count for nothing). */
  itemVectorFor(features: NamedFeatures): { vector: Float32Array; bias: number } {
    return vectorOf(features, this.itemVocabulary, this.FI.data, this.featureBias.data, this.config.factors);
  }

  /** The vector of a user the model never saw, from their labels' features. */
  userVectorFor(features: NamedFeatures): Float32Array {
    return vectorOf(features, this.userVocabulary, this.FU.data, null, this.config.factors).vector;
  }

  /** Whether the model reads content features at all (a vocabulary on either side). */
  get hasFeatures(): boolean {
    return this.itemVocabulary.length > 0 || this.userVocabulary.length > 0;
  }

  getState(): ModelState {
    const bags = { 'bags.items.indptr': this.itemBags.indptr, 'bags.items.indices': this.itemBags.indices, 'bags.items.values': this.itemBags.values, 'bags.users.indptr': this.userBags.indptr, 'bags.users.indices': this.userBags.indices, 'bags.users.values': this.userBags.values };
    return { arrays: { ...paramsToArrays(this.params()), ...bags }, meta: { itemVocabulary: this.itemVocabulary, userVocabulary: this.userVocabulary } };
  }

  setState(state: ModelState): void {
    const vocab = (v: unknown): string[] => (Array.isArray(v) && v.every((x) => typeof x === 'string') ? v : []);
    const matrix = (side: 'items' | 'users', vocabulary: string[], rows: number): FeatureMatrix => {
      const [indptr, indices, values] = [state.arrays[`bags.${side}.indptr`], state.arrays[`bags.${side}.indices`], state.arrays[`bags.${side}.values`]];
      if (!(indptr instanceof Int32Array) || !(indices instanceof Int32Array) || !(values instanceof Float32Array)) throw new Error(`model state lacks the ${side} features`);
      return { rows, indptr, indices, values, vocabulary };
    };
    this.setFeatures(matrix('items', vocab(state.meta.itemVocabulary), this.nItems), matrix('users', vocab(state.meta.userVocabulary), this.nUsers));
    arraysToParams(this.params(), state);
  }
}
