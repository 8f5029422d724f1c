import { kernelModule, type KernelExports } from '../../wasm/module.js';
import { DOT_WASM_BASE64 } from './dot-wasm.js';
import { yieldToEventLoop } from '../../scheduling/yield.js';

/** Rows written between yields while a scorer is filled (20,000 × 64 floats: about 2 ms). */
const FILL_SLICE_ROWS = 20_000;

interface DotExports extends KernelExports {
  scores(m: number, v: number, out: number, n: number, d: number): void;
}
const DOT = kernelModule<DotExports>(DOT_WASM_BASE64);

/**
 * Scores one vector against every row of a fixed matrix: the inner loop of serving (a user
 * against all items, an item against all items). A WebAssembly SIMD kernel (dot.wat) over a
 * copy of the matrix in its own memory runs several times faster than a JS loop (measured in
 * docs/benchmarks.md); where WebAssembly SIMD is unavailable the same computation runs in JS.
 * Each instance owns its memory, so it is freed with the index that holds it.
 */
export class MatrixScorer {
  private readonly exports: DotExports | null;
  /** The rows as scored: the kernel's copy when it has one, so the caller's array can go. */
  private readonly matrix: Float32Array;
  private readonly padded: number;
  private readonly vectorPtr: number;
  private readonly outPtr: number;

  constructor(
    matrix: Float32Array,
    readonly rows: number,
    readonly dims: number,
    /** Set by {@link MatrixScorer.fromRows}: the kernel instance it already filled. */
    filled?: { exports: DotExports | null },
  ) {
    this.padded = Math.ceil(dims / 8) * 8;
    const matrixBytes = rows * this.padded * 4;
    this.vectorPtr = matrixBytes;
    this.outPtr = matrixBytes + this.padded * 4;
    this.exports = filled ? filled.exports : DOT && dims > 0 ? this.load(DOT.instantiate(this.outPtr + rows * 4), matrix) : null;
    this.matrix = this.exports && this.padded === dims ? new Float32Array(this.exports.memory.buffer, 0, rows * dims) : matrix;
  }

  /**
   * A scorer whose row r is written by `fill(r, out)` straight into the kernel's memory, in
   * slices that yield to the event loop: a 1M-row matrix is neither copied in one synchronous
   * call nor held twice while it is made (the unit rows of an item matrix are written where they
   * are scored, with no intermediate array).
   */
  static async fromRows(rows: number, dims: number, fill: (r: number, out: Float32Array) => void): Promise<MatrixScorer> {
    const padded = Math.ceil(dims / 8) * 8;
    const exports = DOT && dims > 0 ? DOT.instantiate(rows * padded * 4 + padded * 4 + rows * 4) : null;
    const heap = exports ? new Float32Array(exports.memory.buffer) : null;
    // A separate row-major array only where the kernel's rows are padded (or there is no kernel).
    const own = !heap || padded !== dims ? new Float32Array(rows * dims) : null;
    for (let r = 0; r < rows; r++) {
      const out = own ? own.subarray(r * dims, (r + 1) * dims) : heap!.subarray(r * padded, r * padded + dims);
      fill(r, out);
      if (own && heap) heap.set(out, r * padded);
      if (r % FILL_SLICE_ROWS === FILL_SLICE_ROWS - 1) await yieldToEventLoop();
    }
    return new MatrixScorer(own ?? heap!.subarray(0, rows * dims), rows, dims, { exports });
  }

  /**
   * The matrix, row-major, as this scorer holds it. Where the kernel's copy has the caller's
   * layout (dims a multiple of 8) it is that copy: a caller that keeps this view instead of its
   * own array holds the matrix once, not twice (256 MB less for 1M items × 64 factors).
   */
  get rowsView(): Float32Array {
    return this.matrix;
  }

  get simd(): boolean {
    return this.exports !== null;
  }

  /** Copies the matrix into the kernel's memory, rows padded to `padded`. */
  private load(exports: DotExports, matrix: Float32Array): DotExports {
    const heap = new Float32Array(exports.memory.buffer);
    const { padded, dims, rows } = this;
    if (padded === dims) heap.set(matrix.subarray(0, rows * dims));
    else for (let r = 0; r < rows; r++) heap.set(matrix.subarray(r * dims, (r + 1) * dims), r * padded);
    return exports;
  }

  /** Row scores for vector `v` (length `dims`), as a new array. */
  scores(v: Float32Array): Float32Array {
    return this.scoresView(v).slice();
  }

  /**
   * The same scores as a view of the kernel's output, overwritten by the next call: for a caller
   * that reads them at once (a top-N). A scan of 100,000 rows otherwise allocates 400 kB a request,
   * and the garbage it leaves behind showed as event-loop stalls over 100 ms under load.
   */
  scoresView(v: Float32Array): Float32Array {
    const { rows, dims } = this;
    if (!this.exports) return jsScores(this.matrix, rows, dims, v);
    const heap = new Float32Array(this.exports.memory.buffer);
    heap.fill(0, this.vectorPtr / 4, this.vectorPtr / 4 + this.padded);
    heap.set(v.subarray(0, dims), this.vectorPtr / 4);
    this.exports.scores(0, this.vectorPtr, this.outPtr, rows, this.padded);
    return heap.subarray(this.outPtr / 4, this.outPtr / 4 + rows);
  }
}

export function jsScores(matrix: Float32Array, rows: number, d: number, v: Float32Array): Float32Array {
  const out = new Float32Array(rows);
  for (let i = 0; i < rows; i++) {
    let s = 0;
    const o = i * d;
    for (let f = 0; f < d; f++) s += v[f] * matrix[o + f];
    out[i] = s;
  }
  return out;
}

/** A fill for {@link MatrixScorer.fromRows}: row r of a row-major matrix as it is. */
export const copyOfRows =
  (m: Float32Array, d: number) =>
  (r: number, out: Float32Array): void =>
    out.set(m.subarray(r * d, (r + 1) * d));

/** A fill for {@link MatrixScorer.fromRows}: row r scaled to unit length (a zero row stays zero). */
export const unitRows =
  (m: Float32Array, d: number) =>
  (r: number, out: Float32Array): void => {
    let norm = 0;
    for (let f = 0; f < d; f++) norm += m[r * d + f] ** 2;
    const s = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    for (let f = 0; f < d; f++) out[f] = m[r * d + f] * s;
  };
