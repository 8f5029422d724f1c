/**
 * Dense symmetric positive definite algebra in Float64, row-major, for the closed-form and
 * alternating least squares models (EASE, iALS) and fold-in. Every inner loop runs along a row,
 * so it reads memory contiguously.
 */

/** Cholesky factor L (lower, A = L·Lᵀ) of an n×n SPD matrix, in place over A's lower triangle. */
export function choleskyInPlace(A: Float64Array, n: number): void {
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    for (let j = 0; j <= i; j++) {
      const rj = j * n;
      let s = A[ri + j];
      for (let k = 0; k < j; k++) s -= A[ri + k] * A[rj + k];
      A[ri + j] = i === j ? Math.sqrt(Math.max(s, 1e-12)) : s / A[rj + j];
    }
    for (let j = i + 1; j < n; j++) A[ri + j] = 0;
  }
}

/** Solves A·x = b for SPD A (A is not modified). */
export function solveSpd(A: Float64Array, b: Float64Array, n: number): Float64Array {
  const L = A.slice(0, n * n);
  choleskyInPlace(L, n);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = b[i];
    for (let k = 0; k < i; k++) s -= L[i * n + k] * y[k];
    y[i] = s / L[i * n + i];
  }
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let s = y[i];
    for (let k = i + 1; k < n; k++) s -= L[k * n + i] * x[k];
    x[i] = s / L[i * n + i];
  }
  return x;
}

/**
 * The inverse of an n×n SPD matrix, in place (A is replaced by A⁻¹). Cholesky, then X = L⁻¹ row
 * by row (each row a sum of earlier rows), then A⁻¹ = Xᵀ·X as a sum of row outer products:
 * ≈ n³/2 multiply-adds in all. `tick` is called once per row of each stage (cancellation, yielding).
 */
export async function invertSpdInPlace(A: Float64Array, n: number, tick: () => void | Promise<void> = () => undefined): Promise<void> {
  choleskyInPlace(A, n);
  // X = L⁻¹, lower triangular, into a separate matrix.
  const X = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    const inv = 1 / A[ri + i];
    for (let k = 0; k < i; k++) {
      const l = A[ri + k];
      if (l === 0) continue;
      const rk = k * n;
      for (let c = 0; c <= k; c++) X[ri + c] -= l * X[rk + c];
    }
    for (let c = 0; c < i; c++) X[ri + c] *= inv;
    X[ri + i] = inv;
    await tick();
  }
  // A⁻¹ = Xᵀ X: row i of X contributes X[i][a]·X[i][b] for b ≤ a ≤ i.
  A.fill(0);
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    for (let a = 0; a <= i; a++) {
      const xa = X[ri + a];
      if (xa === 0) continue;
      const ra = a * n;
      for (let b = 0; b <= a; b++) A[ra + b] += xa * X[ri + b];
    }
    await tick();
  }
  for (let a = 0; a < n; a++) for (let b = 0; b < a; b++) A[b * n + a] = A[a * n + b];
}

/** FᵀF (d × d, Float64) of a row-major rows × d Float32 matrix. */
export function gramOf(F: Float32Array, rows: number, d: number): Float64Array {
  return symmetrizeUpper(accumulateGram(new Float64Array(d * d), F, 0, rows, d), d);
}

/** Adds rows `from`..`to` of F to the upper triangle of G (so a long Gram can be built in slices). */
export function accumulateGram(G: Float64Array, F: Float32Array, from: number, to: number, d: number): Float64Array {
  for (let r = from; r < to; r++) {
    const o = r * d;
    for (let a = 0; a < d; a++) {
      const fa = F[o + a];
      if (fa === 0) continue;
      for (let b = a; b < d; b++) G[a * d + b] += fa * F[o + b];
    }
  }
  return G;
}

/** Copies the upper triangle into the lower one. */
export function symmetrizeUpper(G: Float64Array, d: number): Float64Array {
  for (let a = 0; a < d; a++) for (let b = 0; b < a; b++) G[a * d + b] = G[b * d + a];
  return G;
}
