import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../../data/rng.js';
import { initGlorot, initNormal, Param } from './param.js';

export interface TowerLayer {
  /** `in × out`, row-major. */
  W: Param;
  /** `1 × out`. */
  b: Param;
}

/** What the backward pass needs from a forward pass; the tensors die with the enclosing tf.tidy. */
export interface TowerPass {
  readonly batch: number;
  /** Layer inputs: acts[0] is the tower input, acts[l+1] the output of layer l (after ReLU and dropout). */
  readonly acts: tf.Tensor2D[];
  /** The dropout mask applied to each layer's output (already scaled by 1/(1-p)), or null. */
  readonly masks: (tf.Tensor2D | null)[];
  readonly weights: tf.Tensor2D[];
  /** The tower's output, copied to JS. */
  readonly out: Float32Array;
}

export interface TowerGrads {
  /** Gradient w.r.t. the tower input, when asked for. */
  dx: Float32Array | null;
  dW: Float32Array[];
  db: Float32Array[];
}

export type TowerInit = 'normal' | 'glorot';

/**
 * A stack of dense ReLU layers run on TensorFlow.js, with the backward pass written out by hand.
 * Why by hand: tfjs' autograd computes dW = xᵀ·dz and dx = dz·Wᵀ with transposed-operand
 * matmuls, which on the wasm backend run ~10× slower than a plain matmul after an explicit
 * transpose (38 vs 2–3 GFLOPS measured; see docs/benchmarks.md). Everything here is
 * synchronous, so callers wrap a whole training step in one `tf.tidy`.
 */
export class DenseTower {
  readonly layers: TowerLayer[];

  /** @param sizes `[input, hidden1, …, output]`; every layer is followed by ReLU. */
  constructor(
    readonly name: string,
    readonly sizes: readonly number[],
    rng: Rng,
    init: TowerInit = 'normal',
  ) {
    if (sizes.length < 2) throw new Error(`tower ${name} needs at least one layer`);
    this.layers = [];
    for (let l = 0; l + 1 < sizes.length; l++) {
      const W = new Param(`${name}.${l}.W`, sizes[l], sizes[l + 1]);
      if (init === 'glorot') initGlorot(W, rng);
      else initNormal(W, rng, 0.01);
      this.layers.push({ W, b: new Param(`${name}.${l}.b`, 1, sizes[l + 1]) });
    }
  }

  get inputSize(): number {
    return this.sizes[0];
  }

  get outputSize(): number {
    return this.sizes[this.sizes.length - 1];
  }

  params(): Param[] {
    return this.layers.flatMap((l) => [l.W, l.b]);
  }

  /**
   * Runs the tower on `x` (`batch × input`). With `dropout > 0` each layer's output is masked
   * (inverted dropout, masks drawn from `rng` so runs are reproducible).
   */
  forward(x: Float32Array, batch: number, dropout = 0, rng?: Rng): TowerPass {
    const acts: tf.Tensor2D[] = [tf.tensor2d(x, [batch, this.inputSize])];
    const masks: (tf.Tensor2D | null)[] = [];
    const weights: tf.Tensor2D[] = [];
    for (const layer of this.layers) {
      const W = tf.tensor2d(layer.W.data, [layer.W.rows, layer.W.cols]);
      const bias = tf.tensor1d(layer.b.data);
      weights.push(W);
      let a = tf.fused.matMul({ a: acts[acts.length - 1], b: W, bias, activation: 'relu' }) as tf.Tensor2D;
      let mask: tf.Tensor2D | null = null;
      if (dropout > 0) {
        if (!rng) throw new Error('dropout needs an rng');
        mask = tf.tensor2d(dropoutMask(batch * layer.W.cols, dropout, rng), [batch, layer.W.cols]);
        a = tf.mul(a, mask);
      }
      masks.push(mask);
      acts.push(a);
    }
    return { batch, acts, masks, weights, out: acts[acts.length - 1].dataSync() as Float32Array };
  }

  /** Back-propagates `dOut` (`batch × output`) through the pass; returns parameter gradients (summed over the batch). */
  backward(pass: TowerPass, dOut: Float32Array, wantInputGrad: boolean): TowerGrads {
    let g: tf.Tensor2D = tf.tensor2d(dOut, [pass.batch, this.outputSize]);
    const dW: Float32Array[] = new Array(this.layers.length);
    const db: Float32Array[] = new Array(this.layers.length);
    let dx: Float32Array | null = null;
    for (let l = this.layers.length - 1; l >= 0; l--) {
      const out = pass.acts[l + 1];
      // ReLU'(z) = 1 where the output is positive; dropout zeros are zeros of `out` too.
      let dz = tf.mul(g, tf.step(out, 0)) as tf.Tensor2D;
      const mask = pass.masks[l];
      if (mask) dz = tf.mul(dz, mask);
      dW[l] = tf.matMul(tf.transpose(pass.acts[l]), dz).dataSync() as Float32Array;
      db[l] = tf.sum(dz, 0).dataSync() as Float32Array;
      if (l > 0 || wantInputGrad) {
        g = tf.matMul(dz, tf.transpose(pass.weights[l]));
        if (l === 0) dx = g.dataSync() as Float32Array;
      }
    }
    return { dx, dW, db };
  }

  /** Forward only, no dropout: for scoring. Runs in its own tidy. */
  predict(x: Float32Array, batch: number): Float32Array {
    return tf.tidy(() => this.forward(x, batch).out);
  }
}

/**
 * Inverted-dropout mask. Each 32-bit draw decides two entries (its 16-bit halves against
 * p·65536, exact to 1/65536), from an inline xorshift32 seeded by `rng` once per mask: a call to
 * the seeded generator per entry was 4% of an EINMF epoch, and 10% once the bags ran in SIMD.
 */
export function dropoutMask(n: number, p: number, rng: Rng): Float32Array {
  const keep = 1 / (1 - p);
  const threshold = Math.round(p * 65536);
  const m = new Float32Array(n);
  let x = rng.nextUint32() | 1;
  for (let k = 0; k < n; k += 2) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    m[k] = (x & 0xffff) < threshold ? 0 : keep;
    if (k + 1 < n) m[k + 1] = x >>> 16 < threshold ? 0 : keep;
  }
  return m;
}
