import type { Csr } from '../../data/interactions.js';
import type { SparseGrad } from '../nn/param.js';
import { kernelModule, type KernelExports, type KernelModule } from '../../wasm/module.js';
import { BAG_WASM_BASE64 } from './bag-wasm.js';

interface BagExports extends KernelExports {
  forward(indptr: number, indices: number, values: number, scale: number, we: number, wi: number, rows: number, n: number, out: number, d: number): void;
  backward(indptr: number, indices: number, values: number, scale: number, ge: number, gi: number, rows: number, n: number, dout: number, d: number, tmp: number): void;
  forward1(indptr: number, indices: number, values: number, scale: number, w: number, rows: number, n: number, out: number, d: number): void;
  backward1(indptr: number, indices: number, values: number, scale: number, g: number, rows: number, n: number, dout: number, d: number, tmp: number): void;
}
const BAG = kernelModule<BagExports>(BAG_WASM_BASE64);

/** Byte offsets of the regions of a kernel's memory, each 16-byte aligned. */
function layout(sizes: Record<string, number>): { at: Record<string, number>; bytes: number } {
  const at: Record<string, number> = {};
  let next = 0;
  for (const [name, bytes] of Object.entries(sizes)) {
    at[name] = next;
    next += Math.ceil(bytes / 16) * 16;
  }
  return { at, bytes: next };
}

/**
 * Sparse rows times one or two weight tables (bag.wat) in WebAssembly SIMD, over a copy of the
 * sparse input in the kernel's own memory: EINMF's feedback bags (two tables) and DMF's first
 * layer (one). The weight tables live in the kernel's memory too: the layer's parameters are
 * views of them (`table(t)`), so the optimizer updates them in place and nothing is copied per
 * step (copying them in at each step cost 14 MB per step for DMF at 1M interactions). The JS
 * loops reach ~1 GFLOP/s here; this kernel made EINMF 3× faster (docs/benchmarks.md). Gradients
 * accumulate in dense tables in the kernel's memory and leave as the rows the batch touched.
 */
export class SparseRowsKernel {
  private readonly x: BagExports;
  private readonly at: Record<string, number>;
  private readonly mark: Int32Array;
  private readonly d: number;
  private touched: Int32Array;
  private readonly grads: Float32Array[];

  /**
   * A kernel for `input` times `tables` weight tables `d` wide (row scale 1 when null), or null
   * where WebAssembly SIMD is missing or d is not a multiple of 4.
   */
  static create(input: Csr, rowScale: Float32Array | null, d: number, tables: 1 | 2): SparseRowsKernel | null {
    return BAG && d % 4 === 0 && d > 0 ? new SparseRowsKernel(BAG, input, rowScale ?? new Float32Array(input.rows).fill(1), d, tables) : null;
  }

  private constructor(
    module: KernelModule<BagExports>,
    private readonly input: Csr,
    rowScale: Float32Array,
    d: number,
    private readonly tables: 1 | 2,
  ) {
    this.d = d;
    const table = input.cols * d * 4;
    const second = tables === 2 ? table : 0;
    const block = input.rows * d * 4;
    const { at, bytes } = layout({
      indptr: (input.rows + 1) * 4, indices: input.indices.length * 4, values: input.values.length * 4, scale: input.rows * 4,
      we: table, wi: second, ge: table, gi: second, rows: input.rows * 4, out: block, dout: block, tmp: d * 4,
    });
    this.x = module.instantiate(bytes);
    this.at = at;
    new Int32Array(this.x.memory.buffer, at.indptr, input.rows + 1).set(input.indptr);
    new Int32Array(this.x.memory.buffer, at.indices, input.indices.length).set(input.indices);
    new Float32Array(this.x.memory.buffer, at.values, input.values.length).set(input.values);
    new Float32Array(this.x.memory.buffer, at.scale, input.rows).set(rowScale);
    this.mark = new Int32Array(input.cols).fill(-1);
    this.touched = new Int32Array(1024);
    this.grads = Array.from({ length: tables }, () => new Float32Array(1024 * d));
  }

  private f32(region: string, length: number): Float32Array {
    return new Float32Array(this.x.memory.buffer, this.at[region], length);
  }

  private putRows(rows: ArrayLike<number>): void {
    // The regions hold one entry per input row: callers pass distinct rows.
    if (rows.length > this.input.rows) throw new Error(`sparse-rows kernel: ${rows.length} rows asked, the input has ${this.input.rows}`);
    const heap = new Int32Array(this.x.memory.buffer, this.at.rows, rows.length);
    for (let k = 0; k < rows.length; k++) heap[k] = rows[k];
  }

  /**
   * Weight table `t` (`input.cols × d`, row-major) as a view of the kernel's memory: the layer's
   * parameter data. The memory never grows after construction, so the view stays valid.
   */
  table(t: 0 | 1): Float32Array {
    if (t >= this.tables) throw new Error(`sparse-rows kernel: no table ${t}`);
    return this.f32(t === 0 ? 'we' : 'wi', this.input.cols * this.d);
  }

  /** Whether `data` is (a view of) table `t`. */
  holds(t: 0 | 1, data: Float32Array): boolean {
    return data.buffer === this.x.memory.buffer && data.byteOffset === this.at[t === 0 ? 'we' : 'wi'] && data.length === this.input.cols * this.d;
  }

  /** out = rows × the weight tables (summed), one row of `d` per entry of `rows`. */
  forward(rows: ArrayLike<number>, out: Float32Array): void {
    const { at, d } = this;
    this.putRows(rows);
    if (this.tables === 2) this.x.forward(at.indptr, at.indices, at.values, at.scale, at.we, at.wi, at.rows, rows.length, at.out, d);
    else this.x.forward1(at.indptr, at.indices, at.values, at.scale, at.we, at.rows, rows.length, at.out, d);
    out.set(this.f32('out', rows.length * d));
  }

  /**
   * Each table's gradient for the rows the batch touched (the second table's values are 1 per
   * entry: EINMF's implicit feedback); views valid until the next call.
   */
  backward(rows: ArrayLike<number>, dOut: Float32Array): SparseGrad[] {
    const { at, d } = this;
    this.putRows(rows);
    this.f32('dout', rows.length * d).set(dOut.subarray(0, rows.length * d));
    if (this.tables === 2) this.x.backward(at.indptr, at.indices, at.values, at.scale, at.ge, at.gi, at.rows, rows.length, at.dout, d, at.tmp);
    else this.x.backward1(at.indptr, at.indices, at.values, at.scale, at.ge, at.rows, rows.length, at.dout, d, at.tmp);
    const n = this.collectTouched(rows);
    const touched = this.touched.subarray(0, n);
    return this.grads.map((buffer, t) => {
      if (buffer.length < n * d) this.grads[t] = buffer = new Float32Array(n * d * 2);
      const table = this.f32(t === 0 ? 'ge' : 'gi', this.input.cols * d);
      for (let s = 0; s < n; s++) {
        const o = touched[s] * d;
        buffer.set(table.subarray(o, o + d), s * d);
        // Leave the table zeroed for the next step.
        table.fill(0, o, o + d);
      }
      return { rows: touched, values: buffer.subarray(0, n * d) };
    });
  }

  /** The distinct weight rows the batch's entries point at, in first-seen order. */
  private collectTouched(rows: ArrayLike<number>): number {
    const { indptr, indices } = this.input;
    let n = 0;
    for (let k = 0; k < rows.length; k++) {
      for (let p = indptr[rows[k]]; p < indptr[rows[k] + 1]; p++) {
        const j = indices[p];
        if (this.mark[j] >= 0) continue;
        if (n === this.touched.length) {
          const grown = new Int32Array(n * 2);
          grown.set(this.touched);
          this.touched = grown;
        }
        this.mark[j] = n;
        this.touched[n++] = j;
      }
    }
    for (let s = 0; s < n; s++) this.mark[this.touched[s]] = -1;
    return n;
  }
}
