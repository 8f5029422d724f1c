import type { Csr } from '../../data/interactions.js';
import type { SparseGrad } from '../nn/param.js';
import { BAG_WASM_BASE64 } from './bag-wasm.js';

// The slice of the WebAssembly API used here (the project's TypeScript lib has no DOM types).
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: unknown };
}
interface BagExports {
  memory: { readonly buffer: ArrayBuffer; grow(pages: number): number };
  forward(indptr: number, indices: number, values: number, scale: number, we: number, wi: number, rows: number, n: number, out: number, d: number): void;
  backward(indptr: number, indices: number, values: number, scale: number, ge: number, gi: number, rows: number, n: number, dout: number, d: number, tmp: number): void;
}
const Wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
const BYTES = Buffer.from(BAG_WASM_BASE64, 'base64');
const SUPPORTED = Wasm.validate(BYTES);
let compiled: object | null = null;
const PAGE = 65_536;

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
 * The feedback bag's two loops (bag.wat) in WebAssembly SIMD, over a copy of the sparse input in
 * the kernel's own memory; the weights are copied in at each forward pass (they change every
 * step: 1.3 MB on MovieLens-100K, a fraction of a millisecond). The JS loops reach ~1 GFLOP/s
 * here; see docs/benchmarks.md for what this one does. Gradients accumulate in dense tables in the
 * kernel's memory and leave as the rows the batch touched.
 */
export class BagKernel {
  private readonly x: BagExports;
  private readonly at: Record<string, number>;
  private readonly mark: Int32Array;
  private readonly d: number;
  private touched: Int32Array;
  private gradE: Float32Array;
  private gradI: Float32Array;

  /** A kernel for `input` and `d`-wide weights, or null where WebAssembly SIMD is missing or d is not a multiple of 4. */
  static create(input: Csr, rowScale: Float32Array, d: number): BagKernel | null {
    return SUPPORTED && d % 4 === 0 && d > 0 ? new BagKernel(input, rowScale, d) : null;
  }

  private constructor(
    private readonly input: Csr,
    rowScale: Float32Array,
    d: number,
  ) {
    this.d = d;
    const table = input.cols * d * 4;
    const block = input.rows * d * 4;
    const { at, bytes } = layout({
      indptr: (input.rows + 1) * 4, indices: input.indices.length * 4, values: input.values.length * 4, scale: input.rows * 4,
      we: table, wi: table, ge: table, gi: table, rows: input.rows * 4, out: block, dout: block, tmp: d * 4,
    });
    compiled ??= new Wasm.Module(BYTES);
    this.x = new Wasm.Instance(compiled).exports as BagExports;
    this.x.memory.grow(Math.max(0, Math.ceil(bytes / PAGE) - this.x.memory.buffer.byteLength / PAGE));
    this.at = at;
    new Int32Array(this.x.memory.buffer, at.indptr, input.rows + 1).set(input.indptr);
    new Int32Array(this.x.memory.buffer, at.indices, input.indices.length).set(input.indices);
    new Float32Array(this.x.memory.buffer, at.values, input.values.length).set(input.values);
    new Float32Array(this.x.memory.buffer, at.scale, input.rows).set(rowScale);
    this.mark = new Int32Array(input.cols).fill(-1);
    this.touched = new Int32Array(1024);
    this.gradE = new Float32Array(1024 * d);
    this.gradI = new Float32Array(1024 * d);
  }

  private f32(region: string, length: number): Float32Array {
    return new Float32Array(this.x.memory.buffer, this.at[region], length);
  }

  private putRows(rows: ArrayLike<number>): void {
    const heap = new Int32Array(this.x.memory.buffer, this.at.rows, rows.length);
    for (let k = 0; k < rows.length; k++) heap[k] = rows[k];
  }

  forward(WE: Float32Array, WI: Float32Array, rows: ArrayLike<number>, out: Float32Array): void {
    const { at, d, input } = this;
    if (input.cols * d !== WE.length || WE.length !== WI.length) throw new Error('bag kernel: weights do not match the input');
    this.f32('we', WE.length).set(WE);
    this.f32('wi', WI.length).set(WI);
    this.putRows(rows);
    this.x.forward(at.indptr, at.indices, at.values, at.scale, at.we, at.wi, at.rows, rows.length, at.out, d);
    out.set(this.f32('out', rows.length * d));
  }

  /** The weights' gradients for the rows the batch touched; views valid until the next call. */
  backward(rows: ArrayLike<number>, dOut: Float32Array): { explicit: SparseGrad; implicit: SparseGrad } {
    const { at, d } = this;
    this.putRows(rows);
    this.f32('dout', rows.length * d).set(dOut.subarray(0, rows.length * d));
    this.x.backward(at.indptr, at.indices, at.values, at.scale, at.ge, at.gi, at.rows, rows.length, at.dout, d, at.tmp);
    const n = this.collectTouched(rows);
    if (this.gradE.length < n * d) {
      this.gradE = new Float32Array(n * d * 2);
      this.gradI = new Float32Array(n * d * 2);
    }
    const ge = this.f32('ge', this.input.cols * d);
    const gi = this.f32('gi', this.input.cols * d);
    for (let s = 0; s < n; s++) {
      const o = this.touched[s] * d;
      this.gradE.set(ge.subarray(o, o + d), s * d);
      this.gradI.set(gi.subarray(o, o + d), s * d);
      // Leave the tables zeroed for the next step.
      ge.fill(0, o, o + d);
      gi.fill(0, o, o + d);
    }
    const touched = this.touched.subarray(0, n);
    return { explicit: { rows: touched, values: this.gradE.subarray(0, n * d) }, implicit: { rows: touched, values: this.gradI.subarray(0, n * d) } };
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
