import { Rng } from '../../data/rng.js';

/** One example: dense features (the sources' scores) and hashed sparse ones (categories, labels), each sparse one worth `sparseValue`. */
export interface FeatureRow {
  dense: Float32Array;
  sparse: Int32Array;
}

export interface FmOptions {
  /** Latent factors of the pairwise terms; 0 leaves a logistic model. */
  factors: number;
  epochs: number;
  /** Adam step size. */
  lr: number;
  /** L2 penalty on every weight but the bias. */
  reg: number;
  seed: number;
}

export const FM_DEFAULTS: Omit<FmOptions, 'factors' | 'epochs' | 'seed'> = { lr: 0.01, reg: 1e-3 };

/** A fitted model: plain numbers, saved as JSON in the snapshot. */
export interface FmState {
  kind: 'fm';
  dense: number;
  buckets: number;
  factors: number;
  w0: number;
  w: number[];
  v: number[];
  /** Standardisation of the dense features (fit on the training rows). */
  mean: number[];
  std: number[];
}

/** A row's non-zero features as (index, value): dense standardised, sparse each 1/√count. */
function active(state: Pick<FmState, 'dense' | 'mean' | 'std'>, row: FeatureRow): { idx: Int32Array; val: Float32Array } {
  const n = state.dense + row.sparse.length;
  const idx = new Int32Array(n);
  const val = new Float32Array(n);
  for (let j = 0; j < state.dense; j++) {
    idx[j] = j;
    val[j] = (row.dense[j] - state.mean[j]) / state.std[j];
  }
  const s = row.sparse.length ? 1 / Math.sqrt(row.sparse.length) : 0;
  for (let k = 0; k < row.sparse.length; k++) {
    idx[state.dense + k] = state.dense + row.sparse[k];
    val[state.dense + k] = s;
  }
  return { idx, val };
}

/** w0 + Σ wᵢxᵢ + ½ Σ_f [(Σᵢ vᵢf xᵢ)² − Σᵢ vᵢf² xᵢ²]: the logit, and each factor's sum (for the gradient). */
function logit(state: FmState, idx: Int32Array, val: Float32Array, sums: Float64Array): number {
  let y = state.w0;
  const k = state.factors;
  sums.fill(0);
  let squares = 0;
  for (let a = 0; a < idx.length; a++) {
    const i = idx[a];
    const x = val[a];
    y += state.w[i] * x;
    for (let f = 0; f < k; f++) {
      const vx = state.v[i * k + f] * x;
      sums[f] += vx;
      squares += vx * vx;
    }
  }
  let pair = 0;
  for (let f = 0; f < k; f++) pair += sums[f] * sums[f];
  return y + 0.5 * (pair - squares);
}

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

/** The model's score of a row (a logit: only its order matters), squashed into (0, 1) so rules can multiply it. */
export function scoreRow(state: FmState, row: FeatureRow): number {
  const { idx, val } = active(state, row);
  return sigmoid(logit(state, idx, val, new Float64Array(state.factors)));
}

function standardisation(rows: readonly FeatureRow[], dense: number): { mean: number[]; std: number[] } {
  const mean = new Array<number>(dense).fill(0);
  const sq = new Array<number>(dense).fill(0);
  for (const r of rows) for (let j = 0; j < dense; j++) mean[j] += r.dense[j] / rows.length;
  for (const r of rows) for (let j = 0; j < dense; j++) sq[j] += (r.dense[j] - mean[j]) ** 2 / rows.length;
  return { mean, std: sq.map((v) => (v > 1e-12 ? Math.sqrt(v) : 1)) };
}

/** Adam over one flat parameter vector: w0, the linear weights, then the factors. */
class Adam {
  private readonly m: Float64Array;
  private readonly s: Float64Array;
  private t = 0;

  constructor(
    size: number,
    private readonly lr: number,
  ) {
    this.m = new Float64Array(size);
    this.s = new Float64Array(size);
  }

  tick(): void {
    this.t++;
  }

  step(slot: number, grad: number): number {
    this.m[slot] = 0.9 * this.m[slot] + 0.1 * grad;
    this.s[slot] = 0.999 * this.s[slot] + 0.001 * grad * grad;
    return (this.lr * (this.m[slot] / (1 - 0.9 ** this.t))) / (Math.sqrt(this.s[slot] / (1 - 0.999 ** this.t)) + 1e-8);
  }
}

/** Moves the parameters of one row by `sign` × the loss gradient `g` (∂logit/∂θ times g), plus the L2 pull. */
function update(state: FmState, adam: Adam, row: { idx: Int32Array; val: Float32Array }, sums: Float64Array, g: number, reg: number): void {
  const k = state.factors;
  const total = state.dense + state.buckets;
  for (let a = 0; a < row.idx.length; a++) {
    const i = row.idx[a];
    const x = row.val[a];
    state.w[i] -= adam.step(1 + i, g * x + reg * state.w[i]);
    for (let f = 0; f < k; f++) {
      const vi = state.v[i * k + f];
      state.v[i * k + f] -= adam.step(1 + total + i * k + f, g * x * (sums[f] - vi * x) + reg * vi);
    }
  }
}

/**
 * Fits a factorization machine (Rendle 2010) with a pairwise logistic loss (BPR, Rendle et al.
 * 2009): each group is one held-out positive (first) and its sampled negatives, and every
 * (positive, negative) pair should score positive over negative, which is the order HR@K reads.
 * Adam, one pair at a time in a seeded order; a few thousand groups take milliseconds a pass.
 */
export function fitFm(groups: readonly (readonly FeatureRow[])[], dense: number, buckets: number, options: FmOptions): FmState {
  const rng = new Rng(options.seed);
  const k = options.factors;
  const total = dense + buckets;
  const all = groups.flat();
  const state: FmState = { kind: 'fm', dense, buckets, factors: k, w0: 0, w: new Array<number>(total).fill(0), v: Array.from({ length: total * k }, () => rng.normal() * 0.01), ...standardisation(all, dense) };
  const adam = new Adam(1 + total * (1 + k), options.lr);
  const prepared = groups.map((g) => g.map((r) => active(state, r)));
  const pairs: [number, number][] = [];
  prepared.forEach((g, gi) => g.forEach((_, j) => j > 0 && pairs.push([gi, j])));
  const sumsPos = new Float64Array(k);
  const sumsNeg = new Float64Array(k);
  for (let epoch = 0; epoch < options.epochs; epoch++) {
    rng.shuffle(pairs);
    for (const [gi, j] of pairs) {
      const pos = prepared[gi][0];
      const neg = prepared[gi][j];
      const d = logit(state, pos.idx, pos.val, sumsPos) - logit(state, neg.idx, neg.val, sumsNeg);
      const g = -1 / (1 + Math.exp(d));
      adam.tick();
      update(state, adam, pos, sumsPos, g, options.reg);
      update(state, adam, neg, sumsNeg, -g, options.reg);
    }
  }
  return state;
}
