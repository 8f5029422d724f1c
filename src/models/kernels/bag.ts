import type { Csr } from '../../data/interactions.js';
import type { SparseGrad } from '../nn/param.js';
import { kernelModule, sharedMemory, WASM_PAGE, type KernelModule, type WasmMemory } from '../../wasm/module.js';
import { BAG_WASM_BASE64 } from './bag-wasm.js';

interface BagExports {
  forward(indptr: number, indices: number, values: number, scale: number, we: number, wi: number, rows: number, n: number, out: number, d: number): void;
  backward(indptr: number, indices: number, values: number, scale: number, ge: number, gi: number, rows: number, n: number, dout: number, d: number, tmp: number): void;
  forward1(indptr: number, indices: number, values: number, scale: number, w: number, rows: number, n: number, out: number, d: number): void;
  backward1(indptr: number, indices: number, values: number, scale: number, g: number, rows: number, n: number, dout: number, d: number, tmp: number): void;
}
const BAG = kernelModule<BagExports>(BAG_WASM_BASE64);

/** Byte offsets (from `base`) of consecutive regions, each 16-byte aligned. */
function layout(sizes: Record<string, number>, base = 0): { at: Record<string, number>; bytes: number } {
  const at: Record<string, number> = {};
  let next = base;
  for (const [name, bytes] of Object.entries(sizes)) {
    at[name] = next;
    next += Math.ceil(bytes / 16) * 16;
  }
  return { at, bytes: next - base };
}

/** The memory each weight table's buffer belongs to: how training threads find what to share. */
const memoryOfBuffer = new WeakMap<ArrayBufferLike, WasmMemory>();

/** The shared kernel memory `data` is a view of, or null for plain JS memory. */
export function kernelMemoryOf(data: Float32Array): WasmMemory | null {
  return memoryOfBuffer.get(data.buffer) ?? null;
}

let adoptQueue: WasmMemory[] | null = null;

/**
 * Builds with every kernel created inside `build` running on the next of `memories` (in creation
 * order) instead of a new memory of its own: a training thread runs the main
 * thread's kernels, on the same inputs and weights, in a scratch region of its own. An adopted
 * kernel writes neither its input nor its weights: they are the main thread's.
 */
export function adoptingKernels<T>(memories: readonly WasmMemory[], build: () => T): T {
  adoptQueue = [...memories];
  try {
    const built = build();
    if (adoptQueue.length > 0) throw new Error(`sparse-rows kernel: ${adoptQueue.length} shared memories were not adopted`);
    return built;
  } finally {
    adoptQueue = null;
  }
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
  private readonly memory: WasmMemory;
  /** Whether this kernel runs on another thread's memory (see adoptingKernels). */
  readonly adopted: boolean;
  /** The memory's buffer as this kernel last saw it: every view here is of it. */
  private readonly buffer: ArrayBufferLike;
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
    // While adopting, only adopted kernels exist: a thread whose kernels ran in JS shares none.
    if (adoptQueue?.length === 0) return null;
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
    // Inputs and weights are shared by every thread; gradients and batch buffers are per thread.
    const shared = layout({ indptr: (input.rows + 1) * 4, indices: input.indices.length * 4, values: input.values.length * 4, scale: input.rows * 4, we: table, wi: second });
    const scratchSizes = { ge: table, gi: second, rows: input.rows * 4, out: block, dout: block, tmp: d * 4 };
    const memory = adoptQueue?.shift();
    this.adopted = memory !== undefined;
    if (memory) {
      // Growing a shared memory never moves it: the other threads' views stay valid.
      const pages = Math.ceil(layout(scratchSizes).bytes / WASM_PAGE);
      this.at = { ...shared.at, ...layout(scratchSizes, memory.grow(pages) * WASM_PAGE).at };
      this.memory = memory;
    } else {
      const scratch = layout(scratchSizes, shared.bytes);
      this.at = { ...shared.at, ...scratch.at };
      this.memory = sharedMemory(shared.bytes + scratch.bytes);
    }
    this.x = module.instantiateOn(this.memory);
    this.buffer = this.memory.buffer;
    memoryOfBuffer.set(this.buffer, this.memory);
    if (this.adopted) this.checkAdoptedInput();
    else this.writeInput(rowScale);
    this.mark = new Int32Array(input.cols).fill(-1);
    this.touched = new Int32Array(1024);
    this.grads = Array.from({ length: tables }, () => new Float32Array(1024 * d));
  }

  private writeInput(rowScale: Float32Array): void {
    const { input, at, buffer } = this;
    new Int32Array(buffer, at.indptr, input.rows + 1).set(input.indptr);
    new Int32Array(buffer, at.indices, input.indices.length).set(input.indices);
    new Float32Array(buffer, at.values, input.values.length).set(input.values);
    new Float32Array(buffer, at.scale, input.rows).set(rowScale);
  }

  /** An adopted memory must hold this very input: the same shapes would otherwise train on other data. */
  private checkAdoptedInput(): void {
    const { input, at, buffer } = this;
    const indptr = new Int32Array(buffer, at.indptr, input.rows + 1);
    const indices = new Int32Array(buffer, at.indices, input.indices.length);
    const same = indptr.every((v, k) => v === input.indptr[k]) && indices.every((v, k) => v === input.indices[k]);
    if (!same) throw new Error('sparse-rows kernel: the adopted memory holds another input');
  }

  private f32(region: string, length: number): Float32Array {
    return new Float32Array(this.buffer, this.at[region], length);
  }

  private putRows(rows: ArrayLike<number>): void {
    // The regions hold one entry per input row: callers pass distinct rows.
    if (rows.length > this.input.rows) throw new Error(`sparse-rows kernel: ${rows.length} rows asked, the input has ${this.input.rows}`);
    const heap = new Int32Array(this.buffer, this.at.rows, rows.length);
    for (let k = 0; k < rows.length; k++) heap[k] = rows[k];
  }

  /**
   * Weight table `t` (`input.cols × d`, row-major) as a view of the kernel's memory: the layer's
   * parameter data. A shared memory never moves, so the view stays valid.
   */
  table(t: 0 | 1): Float32Array {
    if (t >= this.tables) throw new Error(`sparse-rows kernel: no table ${t}`);
    return this.f32(t === 0 ? 'we' : 'wi', this.input.cols * this.d);
  }

  /** Whether `data` is (a view of) table `t`. */
  holds(t: 0 | 1, data: Float32Array): boolean {
    return data.buffer === this.buffer && data.byteOffset === this.at[t === 0 ? 'we' : 'wi'] && data.length === this.input.cols * this.d;
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
