import type { Optimizer } from '../../src/models/nn/optimizer.js';
import type { Param, SparseGrad } from '../../src/models/nn/param.js';

/** An optimizer that records the gradients it is given instead of applying them. */
export class RecordingOptimizer implements Optimizer {
  readonly kind = 'sgd';
  readonly grads = new Map<Param, Float32Array>();

  beginStep(): void {
    this.grads.clear();
  }

  private buffer(p: Param): Float32Array {
    let g = this.grads.get(p);
    if (!g) {
      g = new Float32Array(p.size);
      this.grads.set(p, g);
    }
    return g;
  }

  applyDense(p: Param, grad: Float32Array): void {
    const g = this.buffer(p);
    for (let k = 0; k < grad.length; k++) g[k] += grad[k];
  }

  applySparse(p: Param, grad: SparseGrad): void {
    const g = this.buffer(p);
    for (let r = 0; r < grad.rows.length; r++) {
      for (let f = 0; f < p.cols; f++) g[grad.rows[r] * p.cols + f] += grad.values[r * p.cols + f];
    }
  }
}
