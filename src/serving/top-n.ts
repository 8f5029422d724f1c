/** A scored item (dense id of the snapshot). */
export interface Scored {
  item: number;
  score: number;
}

/**
 * The `n` highest-scoring items with a bounded min-heap: O(items · log n) instead of a full
 * sort. Items with score −Infinity or for which `skip` says so are never returned. Ties are
 * broken by the smaller item id, so results are stable across calls.
 */
export function topN(scores: ArrayLike<number>, n: number, skip?: (item: number) => boolean, candidates?: ArrayLike<number>): Scored[] {
  if (n <= 0) return [];
  const heapItems = new Int32Array(n);
  const heapScores = new Float64Array(n);
  let size = 0;
  // "a is worse than b": lower score, or equal score and larger id.
  const worse = (sa: number, ia: number, sb: number, ib: number): boolean => sa < sb || (sa === sb && ia > ib);
  const siftDown = (k: number): void => {
    for (;;) {
      const l = 2 * k + 1;
      const r = l + 1;
      let m = k;
      if (l < size && worse(heapScores[l], heapItems[l], heapScores[m], heapItems[m])) m = l;
      if (r < size && worse(heapScores[r], heapItems[r], heapScores[m], heapItems[m])) m = r;
      if (m === k) return;
      [heapScores[k], heapScores[m]] = [heapScores[m], heapScores[k]];
      [heapItems[k], heapItems[m]] = [heapItems[m], heapItems[k]];
      k = m;
    }
  };
  // Once the heap is full, an item scoring below its worst can be rejected with one comparison;
  // over a 100,000-item catalogue that rejection is almost every item, so it is inlined in the
  // scan loops below (a function call per item cost 5× more, measured).
  let threshold = -Infinity;
  const consider = (i: number, s: number): void => {
    if (s === -Infinity) return;
    // Ask `skip` only about items that would enter the heap: most never do, and filters
    // (seen items, catalogue rules) cost more than this comparison.
    if (size === n && !worse(heapScores[0], heapItems[0], s, i)) return;
    if (skip && skip(i)) return;
    if (size < n) {
      let k = size++;
      heapItems[k] = i;
      heapScores[k] = s;
      while (k > 0) {
        const p = (k - 1) >> 1;
        if (!worse(heapScores[k], heapItems[k], heapScores[p], heapItems[p])) break;
        [heapScores[k], heapScores[p]] = [heapScores[p], heapScores[k]];
        [heapItems[k], heapItems[p]] = [heapItems[p], heapItems[k]];
        k = p;
      }
    } else {
      heapItems[0] = i;
      heapScores[0] = s;
      siftDown(0);
    }
    if (size === n) threshold = heapScores[0];
  };
  if (candidates) {
    for (let c = 0; c < candidates.length; c++) {
      const i = candidates[c];
      const s = scores[i];
      // `!(s >= threshold)` also rejects NaN.
      if (!(s >= threshold)) continue;
      consider(i, s);
    }
  } else {
    for (let i = 0; i < scores.length; i++) {
      const s = scores[i];
      if (!(s >= threshold)) continue;
      consider(i, s);
    }
  }
  const out: Scored[] = [];
  for (let k = 0; k < size; k++) out.push({ item: heapItems[k], score: heapScores[k] });
  return out.sort((a, b) => b.score - a.score || a.item - b.item);
}
