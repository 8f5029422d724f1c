import type { Csr } from '../../data/interactions.js';
import { SparseRowsKernel } from '../kernels/bag.js';
import { Param, RowGradAccumulator, type SparseGrad } from './param.js';

/**
 * Two linear layers over one sparse row with the same sparsity pattern: the explicit values
 * (rating / max) times `explicit` plus the implicit ones (1 per interaction) times `implicit`,
 * scaled per row — EINMF's P_u = s(u) · (R_u·W_E + IR_u·W_I). One pass over the row does both:
 * run as two SparseLinear layers, these loops were 73% of an EINMF epoch (the index walk and
 * the gradient-slot lookups done twice); fused, each non-zero is visited once. Training runs
 * them in WebAssembly SIMD (kernels/bag.wat) where available; these JS loops are the fallback
 * and the reference the kernel is tested against.
 */
export class FeedbackBag {
  private readonly accE: RowGradAccumulator;
  private readonly accI: RowGradAccumulator;

  /**
   * A bag with new weights `name.WE` and `name.WI` (`input.cols × d`, filled by `init`): in the
   * SIMD kernel's memory when `simd` and WebAssembly SIMD are available, in JS memory otherwise.
   */
  static create(name: string, input: Csr, rowScale: Float32Array, d: number, init: (p: Param) => void, simd: boolean): FeedbackBag {
    const kernel = simd ? SparseRowsKernel.create(input, rowScale, d, 2) : null;
    const WE = new Param(`${name}.WE`, input.cols, d, kernel?.table(0));
    const WI = new Param(`${name}.WI`, input.cols, d, kernel?.table(1));
    // An adopted kernel's weights are another thread's, already trained or initialised.
    if (!kernel?.adopted) {
      init(WE);
      init(WI);
    }
    return new FeedbackBag(WE, WI, input, rowScale, kernel);
  }

  /** `kernel`, when given, must hold the weights (see create); null runs the JS loops on any weights. */
  constructor(
    readonly explicit: Param,
    readonly implicit: Param,
    /** The explicit row values; the implicit value of every stored entry is 1. */
    readonly input: Csr,
    readonly rowScale: Float32Array,
    private readonly kernel: SparseRowsKernel | null = null,
  ) {
    if (explicit.rows !== input.cols || implicit.rows !== input.cols || explicit.cols !== implicit.cols) {
      throw new Error(`feedback bag ${explicit.name}: weights ${explicit.rows}×${explicit.cols} and ${implicit.rows}×${implicit.cols} do not fit ${input.cols} columns`);
    }
    if (kernel && !(kernel.holds(0, explicit.data) && kernel.holds(1, implicit.data))) throw new Error(`feedback bag ${explicit.name}: the kernel does not hold these weights`);
    this.accE = new RowGradAccumulator(input.cols, explicit.cols, 4096);
    this.accI = new RowGradAccumulator(input.cols, explicit.cols, 4096);
  }

  /** Whether the WebAssembly SIMD kernel runs this bag. */
  get simd(): boolean {
    return this.kernel !== null;
  }

  get outSize(): number {
    return this.explicit.cols;
  }

  /** Writes the outputs for `rows` into `out` (row k at k·outSize). */
  forward(rows: ArrayLike<number>, out: Float32Array): void {
    if (this.kernel) return this.kernel.forward(rows, out);
    const d = this.explicit.cols;
    const WE = this.explicit.data;
    const WI = this.implicit.data;
    const { indptr, indices, values } = this.input;
    for (let k = 0; k < rows.length; k++) {
      const r = rows[k];
      const o = k * d;
      out.fill(0, o, o + d);
      for (let p = indptr[r]; p < indptr[r + 1]; p++) {
        const x = values[p];
        const w = indices[p] * d;
        for (let f = 0; f < d; f++) out[o + f] += x * WE[w + f] + WI[w + f];
      }
      const s = this.rowScale[r];
      for (let f = 0; f < d; f++) out[o + f] *= s;
    }
  }

  /**
   * Both weights' gradients from the output gradients of `rows` (row k of `dOut` at k·outSize),
   * as the weight rows touched; views valid until the next call.
   */
  backward(rows: ArrayLike<number>, dOut: Float32Array): { explicit: SparseGrad; implicit: SparseGrad } {
    if (this.kernel) {
      const [explicit, implicit] = this.kernel.backward(rows, dOut);
      return { explicit, implicit };
    }
    const { accE, accI } = this;
    accE.reset();
    accI.reset();
    const d = this.explicit.cols;
    const { indptr, indices, values } = this.input;
    const scaled = new Float32Array(d);
    for (let k = 0; k < rows.length; k++) {
      const r = rows[k];
      const s = this.rowScale[r];
      for (let f = 0; f < d; f++) scaled[f] = s * dOut[k * d + f];
      for (let p = indptr[r]; p < indptr[r + 1]; p++) {
        const x = values[p];
        const oE = accE.slot(indices[p]);
        const oI = accI.slot(indices[p]);
        const gE = accE.buffer;
        const gI = accI.buffer;
        for (let f = 0; f < d; f++) {
          gE[oE + f] += x * scaled[f];
          gI[oI + f] += scaled[f];
        }
      }
    }
    return { explicit: accE.take(), implicit: accI.take() };
  }
}
