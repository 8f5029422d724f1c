import { nItems, nUsers, toCsr, type Interactions } from '../data/interactions.js';
import { sampleUnseen } from '../data/negatives.js';
import { Rng } from '../data/rng.js';
import { throwIfAborted, type FitOptions, type FitSummary, type Hyper, type ModelState, type RecModel, type ServingEmbeddings } from './model.js';
import { stripUndefined } from './ncf-model.js';
import { initNormal, Param } from './nn/param.js';
import { arraysToParams, paramsToArrays } from './nn/state.js';
import { BestEpoch } from './nn/train-loop.js';

export interface BprHyper {
  factors: number;
  lr: number;
  /** L2 on the factors and item bias touched by each step. */
  reg: number;
  seed: number;
}

export const BPR_DEFAULTS: BprHyper = { factors: 64, lr: 0.1, reg: 0.01, seed: 42 };

/**
 * BPR-MF (Rendle et al. 2009): x̂_ui = p_u·q_i + b_i, maximising ln σ(x̂_ui − x̂_uj) over
 * (user, positive, sampled negative) triples with per-triple SGD (LearnBPR), in plain JS.
 */
export class BprModel implements RecModel {
  readonly name = 'bpr' as const;
  readonly config: BprHyper;
  readonly P: Param;
  readonly Q: Param;
  readonly b: Param;

  constructor(
    readonly nUsers: number,
    readonly nItems: number,
    hyper: Partial<BprHyper> = {},
  ) {
    this.config = { ...BPR_DEFAULTS, ...stripUndefined(hyper) };
    const rng = new Rng(this.config.seed);
    this.P = initNormal(new Param('P', nUsers, this.config.factors), rng, 0.1);
    this.Q = initNormal(new Param('Q', nItems, this.config.factors), rng, 0.1);
    this.b = new Param('b', nItems, 1);
  }

  get hyper(): Hyper {
    return { ...this.config };
  }

  params(): Param[] {
    return [this.P, this.Q, this.b];
  }

  async fit(train: Interactions, options: FitOptions): Promise<FitSummary> {
    if (nUsers(train) !== this.nUsers || nItems(train) !== this.nItems) throw new Error('bpr: data does not match the model size');
    const seen = toCsr(train, 'byUser');
    const rng = new Rng(this.config.seed + 1);
    const selection = new BestEpoch(this, options);
    const n = train.user.length;
    const started = performance.now();
    let epochsRun = 0;
    for (let epoch = 1; epoch <= options.epochs; epoch++) {
      throwIfAborted(options.signal);
      const t0 = performance.now();
      const order = rng.shuffle(Int32Array.from({ length: n }, (_, k) => k));
      let loss = 0;
      for (let s = 0; s < n; s++) {
        const k = order[s];
        const j = sampleUnseen(seen, train.user[k], rng);
        if (j >= 0) loss += this.step(train.user[k], train.item[k], j);
        if ((s & 0xffff) === 0xffff) {
          await new Promise((r) => setImmediate(r));
          throwIfAborted(options.signal);
        }
      }
      epochsRun = epoch;
      const seconds = (performance.now() - t0) / 1000;
      const valid = selection.observe(epoch);
      const verdict = await options.onEpoch?.({ phase: 'train', epoch, epochs: options.epochs, loss: loss / n, samples: n, samplesPerSec: n / seconds, seconds, ...(valid !== undefined ? { valid } : {}) });
      if (verdict === 'stop' || selection.exhausted(epoch)) break;
    }
    selection.restoreBest();
    const seconds = (performance.now() - started) / 1000;
    const samples = n * epochsRun;
    return { epochs: epochsRun, samples, seconds, samplesPerSec: samples / seconds, ...selection.summary(epochsRun) };
  }

  /** One LearnBPR step on (u, i, j); returns −ln σ(x̂_uij). */
  private step(u: number, i: number, j: number): number {
    const F = this.config.factors;
    const { lr, reg } = this.config;
    const P = this.P.data;
    const Q = this.Q.data;
    const b = this.b.data;
    const pu = u * F;
    const qi = i * F;
    const qj = j * F;
    let x = b[i] - b[j];
    for (let f = 0; f < F; f++) x += P[pu + f] * (Q[qi + f] - Q[qj + f]);
    // d(−ln σ(x))/dx = −σ(−x)
    const e = 1 / (1 + Math.exp(x));
    for (let f = 0; f < F; f++) {
      const p = P[pu + f];
      const a = Q[qi + f];
      const c = Q[qj + f];
      P[pu + f] += lr * (e * (a - c) - reg * p);
      Q[qi + f] += lr * (e * p - reg * a);
      Q[qj + f] += lr * (-e * p - reg * c);
    }
    b[i] += lr * (e - reg * b[i]);
    b[j] += lr * (-e - reg * b[j]);
    return x > 0 ? Math.log1p(Math.exp(-x)) : -x + Math.log1p(Math.exp(x));
  }

  scorePairs(users: Int32Array, items: Int32Array): Float32Array {
    const F = this.config.factors;
    const out = new Float32Array(users.length);
    for (let k = 0; k < users.length; k++) {
      let s = this.b.data[items[k]];
      const pu = users[k] * F;
      const qi = items[k] * F;
      for (let f = 0; f < F; f++) s += this.P.data[pu + f] * this.Q.data[qi + f];
      out[k] = s;
    }
    return out;
  }

  embeddings(): ServingEmbeddings {
    const F = this.config.factors;
    return {
      kind: 'dot',
      exact: true,
      user: { rows: this.nUsers, cols: F, data: this.P.data.slice() },
      item: { rows: this.nItems, cols: F, data: this.Q.data.slice() },
      itemBias: this.b.data.slice(),
    };
  }

  getState(): ModelState {
    return { arrays: paramsToArrays(this.params()), meta: {} };
  }

  setState(state: ModelState): void {
    arraysToParams(this.params(), state);
  }
}
