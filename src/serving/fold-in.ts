import { accumulateGram, solveSpd, symmetrizeUpper } from '../models/linalg.js';
import { yieldToEventLoop } from '../scheduling/yield.js';

/**
 * QᵀQ of the item vectors in slices that yield to the event loop: QᵀQ of 100,000 × 64 items is ~0.2 G
 * multiply-adds, which must not stall requests while a new model loads.
 */
export async function gramInSlices(items: Float32Array, rows: number, d: number, rowsPerSlice = 4096): Promise<Float64Array> {
  const G = new Float64Array(d * d);
  for (let start = 0; start < rows; start += rowsPerSlice) {
    accumulateGram(G, items, start, Math.min(rows, start + rowsPerSlice), d);
    await yieldToEventLoop();
  }
  return symmetrizeUpper(G, d);
}

/**
 * A user vector for someone the snapshot does not know (or knows with too little), against the
 * snapshot's fixed item vectors: the implicit-feedback ALS user step (Hu, Koren & Volinsky
 * 2008). Every item is a weak "no" (preference 0, confidence 1) except the user's items
 * (preference 1, confidence 1 + α·strength):
 *   x = (QᵀQ + Q_Sᵀ(C_S − I)Q_S + λI)⁻¹ Q_Sᵀ C_S 1.
 * QᵀQ is precomputed once per snapshot, so a fold-in costs O(|S|·d² + d³), not O(items).
 */
export function foldInUser(
  G: Float64Array,
  items: Float32Array,
  d: number,
  seen: ArrayLike<number>,
  strength: ArrayLike<number>,
  alpha = 10,
  lambda = 0.1,
): Float32Array {
  const A = G.slice();
  const b = new Float64Array(d);
  for (let k = 0; k < seen.length; k++) {
    const o = seen[k] * d;
    const c = 1 + alpha * strength[k];
    for (let x = 0; x < d; x++) {
      const qx = items[o + x];
      b[x] += c * qx;
      for (let y = 0; y < d; y++) A[x * d + y] += (c - 1) * qx * items[o + y];
    }
  }
  for (let x = 0; x < d; x++) A[x * d + x] += lambda;
  return Float32Array.from(solveSpd(A, b, d));
}
