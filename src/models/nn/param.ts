import type { Rng } from '../../data/rng.js';

/**
 * A trainable matrix kept in a plain Float32Array (row-major `rows × cols`). Parameters live in
 * JS memory rather than as tf.Variables so that embedding tables can be read and updated row by
 * row (sparse updates), and so that snapshots and serving need no TensorFlow.js at all.
 */
export class Param {
  private values: Float32Array;

  constructor(
    readonly name: string,
    readonly rows: number,
    readonly cols: number,
    data: Float32Array = new Float32Array(rows * cols),
  ) {
    if (data.length !== rows * cols) throw new Error(`param ${name}: expected ${rows * cols} values, got ${data.length}`);
    this.values = data;
  }

  get data(): Float32Array {
    return this.values;
  }

  get size(): number {
    return this.values.length;
  }

  /**
   * Moves the values into shared memory (a no-op when they are there already), so that
   * training threads read the weights this thread updates.
   */
  share(): void {
    this.values = inSharedMemory(this.values);
  }

  /** Makes `view` (same length, e.g. another thread's shared values) this parameter's data, as it is. */
  bind(view: Float32Array): void {
    if (view.length !== this.values.length) throw new Error(`param ${this.name}: cannot bind ${view.length} values to ${this.values.length}`);
    this.values = view;
  }
}

/** `a` itself when it is in shared memory already, else a copy of it in a new `SharedArrayBuffer`. */
export function inSharedMemory<T extends Float32Array | Int32Array>(a: T): T {
  if (a.buffer instanceof SharedArrayBuffer) return a;
  const shared = new (a.constructor as new (b: SharedArrayBuffer) => T)(new SharedArrayBuffer(a.byteLength));
  shared.set(a);
  return shared;
}

let skippingInit = 0;

/**
 * Builds a model whose weights are about to be overwritten (loaded from a snapshot) without
 * drawing initial ones: at 100k items × 64 factors the draws alone held the API's event loop
 * for 1.07 s of a model activation.
 */
export function withoutInitialWeights<T>(build: () => T): T {
  skippingInit++;
  try {
    return build();
  } finally {
    skippingInit--;
  }
}

/** N(0, std²) initialisation; the papers use std 0.01 for embeddings and layers. */
export function initNormal(p: Param, rng: Rng, std = 0.01): Param {
  if (skippingInit > 0) return p;
  for (let k = 0; k < p.data.length; k++) p.data[k] = rng.normal() * std;
  return p;
}

/** Glorot/Xavier uniform: keeps activations' scale through deep ReLU towers. */
export function initGlorot(p: Param, rng: Rng): Param {
  if (skippingInit > 0) return p;
  const limit = Math.sqrt(6 / (p.rows + p.cols));
  for (let k = 0; k < p.data.length; k++) p.data[k] = (rng.next() * 2 - 1) * limit;
  return p;
}

/** LeCun uniform, as the NCF reference code initialises its prediction layer. */
export function initLecun(p: Param, rng: Rng): Param {
  if (skippingInit > 0) return p;
  const limit = Math.sqrt(3 / p.rows);
  for (let k = 0; k < p.data.length; k++) p.data[k] = (rng.next() * 2 - 1) * limit;
  return p;
}

/** Gradient rows for a sparse (embedding) parameter: `values` is `rows.length × cols`. */
export interface SparseGrad {
  rows: Int32Array;
  values: Float32Array;
}

/**
 * Sums gradient rows by parameter row, so a row that appears many times in a batch gets one
 * update. Buffers are reused between steps; `take()` hands out views valid until `reset()`.
 */
export class RowGradAccumulator {
  private readonly slotOf: Int32Array;
  private rows: Int32Array;
  private values: Float32Array;
  private used = 0;

  constructor(
    readonly nRows: number,
    readonly cols: number,
    initialCapacity = 1024,
  ) {
    this.slotOf = new Int32Array(nRows).fill(-1);
    this.rows = new Int32Array(initialCapacity);
    this.values = new Float32Array(initialCapacity * cols);
  }

  /** The gradient slot of `row` (offset into the values buffer), creating it zeroed on first use. */
  slot(row: number): number {
    let s = this.slotOf[row];
    if (s < 0) {
      if (this.used === this.rows.length) this.grow();
      s = this.used++;
      this.slotOf[row] = s;
      this.rows[s] = row;
      this.values.fill(0, s * this.cols, (s + 1) * this.cols);
    }
    return s * this.cols;
  }

  /** Adds `scale × src[srcOff .. srcOff+cols)` to row `row`'s gradient. */
  add(row: number, src: Float32Array, srcOff: number, scale = 1): void {
    const off = this.slot(row);
    const v = this.values;
    for (let f = 0; f < this.cols; f++) v[off + f] += scale * src[srcOff + f];
  }

  get buffer(): Float32Array {
    return this.values;
  }

  take(): SparseGrad {
    return { rows: this.rows.subarray(0, this.used), values: this.values.subarray(0, this.used * this.cols) };
  }

  reset(): void {
    for (let s = 0; s < this.used; s++) this.slotOf[this.rows[s]] = -1;
    this.used = 0;
  }

  private grow(): void {
    const rows = new Int32Array(this.rows.length * 2);
    rows.set(this.rows);
    const values = new Float32Array(rows.length * this.cols);
    values.set(this.values);
    this.rows = rows;
    this.values = values;
  }
}
