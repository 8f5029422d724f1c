import { nItems, nUsers, toCsr, type Csr, type Interactions } from '../data/interactions.js';
import { Rng } from '../data/rng.js';
import { alsScratch, balancedRowRanges, solveAlsRow, solveAlsRows, type AlsHalf, type AlsRows } from './als.js';
import { gramOf } from './linalg.js';
import { throwIfAborted, type FitOptions, type FitSummary, type Hyper, type ModelState, type RecModel, type ServingEmbeddings } from './model.js';
import { stripUndefined } from './ncf-model.js';
import { initNormal, inSharedMemory, Param } from './nn/param.js';
import { startAlsPool, type AlsPool, type AlsSide } from './parallel/als-pool.js';
import { arraysToParams, paramsToArrays } from './nn/state.js';
import { BestEpoch } from './nn/train-loop.js';

export interface IalsHyper {
  factors: number;
  /** λ: L2 regularisation, scaled per row by (observed count + α₀·other side's size)^ν. */
  reg: number;
  /** α₀: weight of every unobserved pair (observed pairs weigh 1). */
  alpha0: number;
  /** ν: exponent of the frequency scaling of λ (0 = plain λ). */
  nu: number;
  /** Standard deviation of the initial factors, divided by √factors. */
  initStd: number;
  seed: number;
}

export const IALS_DEFAULTS: IalsHyper = { factors: 64, reg: 0.02, alpha0: 0.3, nu: 1, initStd: 0.1, seed: 42 };

/**
 * Implicit ALS (Hu, Koren & Volinsky 2008) in the formulation of Rendle et al. 2021, "Revisiting
 * the performance of iALS on item recommendation benchmarks": minimise
 *   Σ_{(u,i) observed} (w_u·h_i − 1)² + α₀ Σ_{all u,i} (w_u·h_i)² + λ Σ_u (n_u + α₀|I|)^ν ‖w_u‖² + λ Σ_i (n_i + α₀|U|)^ν ‖h_i‖²
 * by alternating exact solves. The Gram trick makes the all-pairs term cost one d×d matrix per
 * half-epoch (α₀·HᵀH), so a user's solve is O(n_u·d² + d³). Rows are independent given the held
 * side, so `threads` split them (exactly the result of one thread). Served as a plain dot product.
 */
export class IalsModel implements RecModel {
  readonly name = 'ials' as const;
  readonly config: IalsHyper;
  readonly W: Param;
  readonly H: Param;

  constructor(
    readonly nUsers: number,
    readonly nItems: number,
    hyper: Partial<IalsHyper> = {},
  ) {
    this.config = { ...IALS_DEFAULTS, ...stripUndefined(hyper) };
    const rng = new Rng(this.config.seed);
    const std = this.config.initStd / Math.sqrt(this.config.factors);
    this.W = initNormal(new Param('W', nUsers, this.config.factors), rng, std);
    this.H = initNormal(new Param('H', nItems, this.config.factors), rng, std);
  }

  get hyper(): Hyper {
    return { ...this.config };
  }

  params(): Param[] {
    return [this.W, this.H];
  }

  async fit(train: Interactions, options: FitOptions): Promise<FitSummary> {
    if (nUsers(train) !== this.nUsers || nItems(train) !== this.nItems) throw new Error('ials: data does not match the model size');
    const byUser = toCsr(train, 'byUser');
    const byItem = toCsr(train, 'byItem');
    const pool = await this.startPool(options.threads ?? 1, byUser, byItem);
    try {
      return await this.alternate(train, byUser, byItem, options, pool);
    } finally {
      await pool?.close();
    }
  }

  /** Moves the factors and the rows into shared memory and starts the other threads, for more than one. */
  private async startPool(threads: number, byUser: Csr, byItem: Csr): Promise<AlsPool | null> {
    if (threads <= 1) return null;
    this.W.share();
    this.H.share();
    const rows = (c: Csr): AlsRows => ({ indptr: inSharedMemory(c.indptr), indices: inSharedMemory(c.indices) });
    return startAlsPool(threads, { settings: this.config, users: { factors: this.W.data, rows: rows(byUser) }, items: { factors: this.H.data, rows: rows(byItem) } });
  }

  private async alternate(train: Interactions, byUser: Csr, byItem: Csr, options: FitOptions, pool: AlsPool | null): Promise<FitSummary> {
    const selection = new BestEpoch(this, options);
    const started = performance.now();
    let epochsRun = 0;
    for (let epoch = 1; epoch <= options.epochs; epoch++) {
      throwIfAborted(options.signal);
      const t0 = performance.now();
      await this.solveSide('users', byUser, options.signal, pool);
      await this.solveSide('items', byItem, options.signal, pool);
      epochsRun = epoch;
      const seconds = (performance.now() - t0) / 1000;
      const valid = selection.observe(epoch);
      const n = train.user.length;
      const verdict = await options.onEpoch?.({ phase: 'train', epoch, epochs: options.epochs, loss: this.observedLoss(byUser) / n, samples: n, samplesPerSec: n / seconds, seconds, ...(valid !== undefined ? { valid } : {}) });
      if (verdict === 'stop' || selection.exhausted(epoch)) break;
    }
    selection.restoreBest();
    const seconds = (performance.now() - started) / 1000;
    const samples = train.user.length * epochsRun;
    return { epochs: epochsRun, samples, seconds, samplesPerSec: samples / seconds, ...selection.summary(epochsRun), ...(pool ? { threads: pool.size } : {}) };
  }

  /**
   * Solves every row of one side with the other held: the other threads take all ranges but the
   * first, this one solves the first, yielding now and then (cancellation).
   */
  private async solveSide(side: AlsSide, rows: Csr, signal: AbortSignal | undefined, pool: AlsPool | null): Promise<void> {
    const d = this.config.factors;
    const [target, fixed] = side === 'users' ? [this.W, this.H] : [this.H, this.W];
    const base = gramOf(fixed.data, fixed.rows, d);
    for (let k = 0; k < base.length; k++) base[k] *= this.config.alpha0;
    const half: AlsHalf = { target: target.data, fixed: fixed.data, rows, otherSize: fixed.rows, base };
    const ranges = balancedRowRanges(rows.indptr, pool?.size ?? 1, d);
    const others = pool ? pool.solve(side, base, ranges.slice(1)) : Promise.resolve();
    // Handled here so an abort below leaves no unhandled rejection; awaited after this thread's rows.
    others.catch(() => undefined);
    const scratch = alsScratch(d);
    const [from, to] = ranges[0];
    for (let r = from; r < to; ) {
      const t0 = performance.now();
      // Blocks of rows between yields, each about 50 ms.
      while (r < to && performance.now() - t0 < 50) {
        solveAlsRows(this.config, half, r, r + 1, scratch);
        r++;
      }
      await new Promise((resolve) => setImmediate(resolve));
      throwIfAborted(signal);
    }
    await others;
  }

  /** Σ over observed pairs of (ŷ − 1)², the part of the loss the epoch log reports. */
  private observedLoss(byUser: Csr): number {
    let loss = 0;
    const d = this.config.factors;
    for (let u = 0; u < byUser.rows; u++) {
      for (let p = byUser.indptr[u]; p < byUser.indptr[u + 1]; p++) {
        let s = 0;
        for (let f = 0; f < d; f++) s += this.W.data[u * d + f] * this.H.data[byUser.indices[p] * d + f];
        loss += (s - 1) ** 2;
      }
    }
    return loss;
  }

  /**
   * The user step for someone the model was not trained on, from the items they interacted
   * with: the same solve as in training. `itemGram` (HᵀH) is passed by serving, which keeps one.
   */
  userVectorFor(items: ArrayLike<number>, itemGram: Float64Array): Float32Array {
    const d = this.config.factors;
    const base = new Float64Array(d * d);
    for (let k = 0; k < base.length; k++) base[k] = this.config.alpha0 * itemGram[k];
    const distinct = Int32Array.from(new Set(Array.from(items)));
    return Float32Array.from(solveAlsRow(this.config, base, this.H.data, distinct, this.nItems, alsScratch(d)));
  }

  scorePairs(users: Int32Array, items: Int32Array): Float32Array {
    const d = this.config.factors;
    const out = new Float32Array(users.length);
    for (let k = 0; k < users.length; k++) {
      let s = 0;
      for (let f = 0; f < d; f++) s += this.W.data[users[k] * d + f] * this.H.data[items[k] * d + f];
      out[k] = s;
    }
    return out;
  }

  embeddings(): ServingEmbeddings {
    const d = this.config.factors;
    return { kind: 'dot', exact: true, user: { rows: this.nUsers, cols: d, data: this.W.data.slice() }, item: { rows: this.nItems, cols: d, data: this.H.data.slice() } };
  }

  getState(): ModelState {
    return { arrays: paramsToArrays(this.params()), meta: {} };
  }

  setState(state: ModelState): void {
    arraysToParams(this.params(), state);
  }
}
