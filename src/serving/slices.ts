import type { Csr } from '../data/interactions.js';
import { yieldToEventLoop } from '../scheduling/yield.js';

/** Rows handled between yields to the event loop while an index is built. */
const SLICE_ROWS = 20_000;

export async function positionsInSlices(ids: readonly string[]): Promise<Map<string, number>> {
  const map = new Map<string, number>();
  for (let k = 0; k < ids.length; k++) {
    map.set(ids[k], k);
    if (k % SLICE_ROWS === SLICE_ROWS - 1) await yieldToEventLoop();
  }
  return map;
}

/**
 * Each row divided by its largest weight: an EASE weight's scale depends on λ and the data, so a
 * floor reads the same for every item-based model (an item's best neighbour is 1).
 */
export async function scaledRowsInSlices(m: Csr): Promise<Csr> {
  const values = new Float32Array(m.values.length);
  for (let r = 0; r < m.rows; r++) {
    let top = 0;
    for (let p = m.indptr[r]; p < m.indptr[r + 1]; p++) top = Math.max(top, m.values[p]);
    for (let p = m.indptr[r]; p < m.indptr[r + 1]; p++) values[p] = top > 0 ? m.values[p] / top : 0;
    if (r % SLICE_ROWS === SLICE_ROWS - 1) await yieldToEventLoop();
  }
  return { ...m, values };
}
