import type { Param, SparseGrad } from './param.js';

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
  private t = 0;
  private lrT = 0;
  private readonly beta1: number;
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
    this.t++;
    this.lrT = (this.options.lr * Math.sqrt(1 - this.beta2 ** this.t)) / (1 - this.beta1 ** this.t);
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
    this.update(p.data, m, v, grad, 0, 0, p.size);
  }

  applySparse(p: Param, grad: SparseGrad): void {
    const [m, v] = this.moments(p);
    const cols = p.cols;
    for (let r = 0; r < grad.rows.length; r++) this.update(p.data, m, v, grad.values, grad.rows[r] * cols, r * cols, cols);
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

export interface OptimizerSettings {
  kind: 'adam' | 'sgd';
  options: OptimizerOptions;
}

/** What `opt` was made with, so that another thread can make its twin; null for other optimizers. */
export function optimizerSettings(opt: Optimizer): OptimizerSettings | null {
  return opt instanceof Adam || opt instanceof Sgd ? { kind: opt.kind, options: opt.options } : null;
}
