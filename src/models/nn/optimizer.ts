import { inSharedMemory, type Param, type SparseGrad } from './param.js';

export interface OptimizerOptions {
  lr: number;
  /** Adam only. Defaults 0.9 / 0.999 / 1e-7 (TensorFlow's). */
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  /** L2 penalty added to the gradient of every updated value (0 = none, as in NCF). */
  l2?: number;
}

/**
 * Applies gradients to {@link Param}s. Dense parameters get a full update; sparse ones
 * (embedding tables) only on the rows present in the batch.
 */
export interface Optimizer {
  /** Call once per training step, before applying that step's gradients. */
  beginStep(): void;
  applyDense(p: Param, grad: Float32Array): void;
  applySparse(p: Param, grad: SparseGrad): void;
  /** Moment buffers, for checkpointing; empty for SGD. */
  readonly kind: 'adam' | 'sgd';
}

/**
 * Adam with lazy sparse updates (as TensorFlow's LazyAdam): the moments of an embedding row are
 * only decayed and updated when the row is in the batch. Dense Adam over a whole table on every
 * step is what made the naive tfjs path ~1,000× slower (PERFORMANCE-NOTES.md).
 */
export class Adam implements Optimizer {
  readonly kind = 'adam';
  private readonly m = new Map<Param, Float32Array>();
  private readonly v = new Map<Param, Float32Array>();
  /** Steps taken, in an array so that training threads can share the count (see share). */
  private steps: Int32Array<ArrayBufferLike> = new Int32Array(1);
  private lrT = 0;
  /** Shared only: one lock word per parameter, so that threads update a parameter one at a time. */
  private locks: ParamLocks | null = null;
  private beta1: number;
  private readonly beta2: number;
  private readonly epsilon: number;
  private readonly l2: number;

  constructor(readonly options: OptimizerOptions) {
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.epsilon = options.epsilon ?? 1e-7;
    this.l2 = options.l2 ?? 0;
  }

  beginStep(): void {
    const t = Atomics.add(this.steps, 0, 1) + 1;
    this.lrT = (this.options.lr * Math.sqrt(1 - this.beta2 ** t)) / (1 - this.beta1 ** t);
  }

  /**
   * Moves the state (every parameter's moments, the step count) into shared memory and returns
   * it, for the twins of `params` in `threads` training threads: with one Adam state, threads
   * that take turns give exactly one thread's result, where an Adam per thread, each seeing half
   * the batches, trained DMF to a 6% higher loss in an epoch (docs/benchmarks.md). β1 becomes
   * {@link asyncMomentum}'s.
   */
  share(params: readonly Param[], threads: number): SharedAdamState {
    this.beta1 = asyncMomentum(this.options.beta1 ?? 0.9, threads);
    this.steps = inSharedMemory(this.steps);
    this.locks ??= new ParamLocks(params, new Int32Array(new SharedArrayBuffer(4 * params.length)));
    const moments = params.map((p): [Float32Array, Float32Array] => {
      const [m, v] = this.moments(p).map(inSharedMemory);
      this.m.set(p, m);
      this.v.set(p, v);
      return [m, v];
    });
    return { steps: this.steps, moments, locks: this.locks.words, beta1: this.beta1 };
  }

  /** Takes over a state another thread shared for these parameters' twins. */
  adopt(params: readonly Param[], state: SharedAdamState): void {
    if (state.moments.length !== params.length) throw new Error(`adam: ${state.moments.length} shared moments for ${params.length} parameters`);
    this.steps = state.steps;
    this.beta1 = state.beta1;
    this.locks = new ParamLocks(params, state.locks);
    params.forEach((p, k) => {
      const [m, v] = state.moments[k];
      if (m.length !== p.size || v.length !== p.size) throw new Error(`adam: shared moments of ${m.length} values for ${p.name} (${p.size})`);
      this.m.set(p, m);
      this.v.set(p, v);
    });
  }

  private moments(p: Param): [Float32Array, Float32Array] {
    let m = this.m.get(p);
    let v = this.v.get(p);
    if (!m || !v) {
      m = new Float32Array(p.size);
      v = new Float32Array(p.size);
      this.m.set(p, m);
      this.v.set(p, v);
    }
    return [m, v];
  }

  private update(w: Float32Array, m: Float32Array, v: Float32Array, g: Float32Array, wOff: number, gOff: number, n: number): void {
    const { beta1: b1, beta2: b2, epsilon: eps, lrT, l2 } = this;
    for (let k = 0; k < n; k++) {
      const wi = wOff + k;
      const gi = g[gOff + k] + l2 * w[wi];
      const mi = (m[wi] = b1 * m[wi] + (1 - b1) * gi);
      const vi = (v[wi] = b2 * v[wi] + (1 - b2) * gi * gi);
      w[wi] -= (lrT * mi) / (Math.sqrt(vi) + eps);
    }
  }

  applyDense(p: Param, grad: Float32Array): void {
    const [m, v] = this.moments(p);
    const held = this.locks?.acquire(p);
    this.update(p.data, m, v, grad, 0, 0, p.size);
    if (held !== undefined) this.locks!.release(held);
  }

  applySparse(p: Param, grad: SparseGrad): void {
    const [m, v] = this.moments(p);
    const cols = p.cols;
    const held = this.locks?.acquire(p);
    for (let r = 0; r < grad.rows.length; r++) this.update(p.data, m, v, grad.values, grad.rows[r] * cols, r * cols, cols);
    if (held !== undefined) this.locks!.release(held);
  }
}

/**
 * A lock word per parameter in shared memory. Training threads read weights without locks
 * (Hogwild), but an update is a read-modify-write of the weight and both moments: two threads
 * updating the same rows at once lose updates, and a moment written by one thread beside
 * another's weight step gives that step the wrong scale.
 */
class ParamLocks {
  private readonly index: Map<Param, number>;

  constructor(
    params: readonly Param[],
    readonly words: Int32Array,
  ) {
    this.index = new Map(params.map((p, k) => [p, k]));
  }

  /** Waits for `p`'s lock and takes it; returns the word to release (undefined for a parameter without one). */
  acquire(p: Param): number | undefined {
    const k = this.index.get(p);
    if (k === undefined) return undefined;
    while (Atomics.compareExchange(this.words, k, 0, 1) !== 0) Atomics.wait(this.words, k, 1);
    return k;
  }

  release(k: number): void {
    Atomics.store(this.words, k, 0);
    Atomics.notify(this.words, k, 1);
  }
}

/** Plain SGD: NCF fine-tunes pretrained NeuMF with it, since Adam's moments were not saved. */
export class Sgd implements Optimizer {
  readonly kind = 'sgd';
  constructor(readonly options: OptimizerOptions) {}

  beginStep(): void {}

  applyDense(p: Param, grad: Float32Array): void {
    const { lr } = this.options;
    const l2 = this.options.l2 ?? 0;
    const w = p.data;
    for (let k = 0; k < w.length; k++) w[k] -= lr * (grad[k] + l2 * w[k]);
  }

  applySparse(p: Param, grad: SparseGrad): void {
    const { lr } = this.options;
    const l2 = this.options.l2 ?? 0;
    const w = p.data;
    const cols = p.cols;
    for (let r = 0; r < grad.rows.length; r++) {
      const off = grad.rows[r] * cols;
      for (let f = 0; f < cols; f++) w[off + f] -= lr * (grad.values[r * cols + f] + l2 * w[off + f]);
    }
  }
}

export function createOptimizer(kind: 'adam' | 'sgd', options: OptimizerOptions): Optimizer {
  return kind === 'adam' ? new Adam(options) : new Sgd(options);
}

/** Adam's state in shared memory: the step count and each parameter's [m, v], in `params()` order. */
export interface SharedAdamState {
  steps: Int32Array;
  moments: [Float32Array, Float32Array][];
  /** One lock word per parameter. */
  locks: Int32Array;
  /** β1 for training on several threads (asyncMomentum). */
  beta1: number;
}

/**
 * Adam's β1 when `threads` threads update the weights asynchronously. Asynchrony acts as momentum
 * of its own, about 1 − 1/threads (Mitliagkas et al., "Asynchrony begets momentum", 2016), which
 * adds to the optimizer's: with β1 = 0.9 on two threads, DMF's training loss after an epoch was
 * 15% above one thread's (0.381 against 0.331), and 1% above with β1 lowered by that much (0.335).
 */
export function asyncMomentum(beta1: number, threads: number): number {
  return threads <= 1 ? beta1 : Math.max(0, beta1 - (1 - 1 / threads));
}

/** What a training thread needs to update shared weights with the same optimizer as the main thread. */
export type SharedOptimizer = { kind: 'sgd'; options: OptimizerOptions } | { kind: 'adam'; options: OptimizerOptions; state: SharedAdamState };

/** Shares `opt`'s settings and state for the twins of `params` in `threads` threads; null for optimizers that cannot be shared. */
export function shareOptimizer(opt: Optimizer, params: readonly Param[], threads: number): SharedOptimizer | null {
  if (opt instanceof Adam) return { kind: 'adam', options: opt.options, state: opt.share(params, threads) };
  if (opt instanceof Sgd) return { kind: 'sgd', options: opt.options };
  return null;
}

/** The optimizer of a training thread's twin: the main thread's settings, and its state when it has one. */
export function optimizerFromShared(shared: SharedOptimizer, params: readonly Param[]): Optimizer {
  if (shared.kind === 'sgd') return new Sgd(shared.options);
  const adam = new Adam(shared.options);
  adam.adopt(params, shared.state);
  return adam;
}
