import { kernelModule, type KernelExports } from '../../wasm/module.js';
import { DOT_WASM_BASE64 } from './dot-wasm.js';

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
  ) {
    this.padded = Math.ceil(dims / 8) * 8;
    const matrixBytes = rows * this.padded * 4;
    this.vectorPtr = matrixBytes;
    this.outPtr = matrixBytes + this.padded * 4;
    this.exports = DOT && dims > 0 ? this.load(DOT.instantiate(this.outPtr + rows * 4), matrix) : null;
    this.matrix = this.exports && this.padded === dims ? new Float32Array(this.exports.memory.buffer, 0, rows * dims) : matrix;
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
