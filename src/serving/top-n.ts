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
  const consider = (i: number): void => {
    const s = scores[i];
    if (s === -Infinity || Number.isNaN(s)) return;
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
    } else if (worse(heapScores[0], heapItems[0], s, i)) {
      heapItems[0] = i;
      heapScores[0] = s;
      siftDown(0);
    }
  };
  if (candidates) for (let c = 0; c < candidates.length; c++) consider(candidates[c]);
  else for (let i = 0; i < scores.length; i++) consider(i);
  const out: Scored[] = [];
  for (let k = 0; k < size; k++) out.push({ item: heapItems[k], score: heapScores[k] });
  return out.sort((a, b) => b.score - a.score || a.item - b.item);
}
