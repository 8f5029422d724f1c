import { solveSpd } from './linalg.js';

/** What a row's solve depends on besides the data (IalsHyper's solver part). */
export interface AlsSettings {
  factors: number;
  reg: number;
  alpha0: number;
  nu: number;
}

/** Rows of observed columns, CSR: row r's columns are indices[indptr[r]..indptr[r + 1]). */
export interface AlsRows {
  indptr: Int32Array;
  indices: Int32Array;
}

/** One half-epoch's work: solve `target`'s rows with `fixed` held, `base` = α₀·FᵀF of `fixed`. */
export interface AlsHalf {
  target: Float32Array;
  fixed: Float32Array;
  rows: AlsRows;
  /** Rows of `fixed` (the other side's size, in λ's frequency scaling). */
  otherSize: number;
  base: Float64Array;
}

export interface AlsScratch {
  A: Float64Array;
  b: Float64Array;
}

export function alsScratch(d: number): AlsScratch {
  return { A: new Float64Array(d * d), b: new Float64Array(d) };
}

/**
 * One row's exact solve with the other side `fixed`, for observed columns S:
 * (α₀·FᵀF + Σ_{c∈S} f_c f_cᵀ + λ_S I) x = Σ_{c∈S} f_c, where `base` is α₀·FᵀF and
 * λ_S = λ·(|S| + α₀·otherSize)^ν. `scratch` is overwritten (a training pass reuses it).
 */
export function solveAlsRow(s: AlsSettings, base: Float64Array, fixed: Float32Array, columns: ArrayLike<number>, otherSize: number, scratch: AlsScratch): Float64Array {
  const d = s.factors;
  const { A, b } = scratch;
  A.set(base);
  b.fill(0);
  for (let p = 0; p < columns.length; p++) {
    const o = columns[p] * d;
    for (let x = 0; x < d; x++) {
      const fx = fixed[o + x];
      b[x] += fx;
      const ax = x * d;
      for (let y = 0; y <= x; y++) A[ax + y] += fx * fixed[o + y];
    }
  }
  const lambda = s.reg * (columns.length + s.alpha0 * otherSize) ** s.nu;
  for (let x = 0; x < d; x++) {
    A[x * d + x] += lambda;
    for (let y = 0; y < x; y++) A[y * d + x] = A[x * d + y];
  }
  return solveSpd(A, b, d);
}

/** Solves rows `from`..`to` of a half-epoch into its target. */
export function solveAlsRows(s: AlsSettings, half: AlsHalf, from: number, to: number, scratch: AlsScratch): void {
  const d = s.factors;
  const { indptr, indices } = half.rows;
  for (let r = from; r < to; r++) {
    const solution = solveAlsRow(s, half.base, half.fixed, indices.subarray(indptr[r], indptr[r + 1]), half.otherSize, scratch);
    for (let x = 0; x < d; x++) half.target[r * d + x] = solution[x];
  }
}

/**
 * Splits rows 0..n into `parts` consecutive ranges of about equal work: a row costs n_r·d²/2 for
 * its outer products plus ≈ d³/3 for the Cholesky solve, so heavy users do not all land in one part.
 */
export function balancedRowRanges(indptr: Int32Array, parts: number, d: number): [number, number][] {
  const n = indptr.length - 1;
  // n_r·d²/2 + d³/3 = (d²/2)·(n_r + 2d/3)
  const cost = (r: number): number => indptr[r + 1] - indptr[r] + (2 * d) / 3;
  let total = 0;
  for (let r = 0; r < n; r++) total += cost(r);
  const ranges: [number, number][] = [];
  let from = 0;
  let done = 0;
  for (let r = 0; r < n && ranges.length < parts - 1; r++) {
    done += cost(r);
    if (done >= (total * (ranges.length + 1)) / parts) {
      ranges.push([from, r + 1]);
      from = r + 1;
    }
  }
  ranges.push([from, n]);
  while (ranges.length < parts) ranges.push([n, n]);
  return ranges;
}
