import type { RankedItem } from '../ranker/rankers.js';

/** Unit vectors by dense id (the serving model's), or null for an item without one. */
export type UnitVectorOf = (dense: number) => Float32Array | null;

function cosine(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let f = 0; f < a.length; f++) s += a[f] * b[f];
  return s;
}

/**
 * Maximal marginal relevance (Carbonell & Goldstein 1998): repeatedly takes the item maximising
 * λ·relevance − (1 − λ)·(its highest cosine to the items already taken), over the first `depth`
 * positions. Relevance is rescaled to [0, 1] first so λ means the same for every ranker.
 * Cost: depth × candidates × dimensions.
 */
export function mmr(list: readonly RankedItem[], lambda: number, depth: number, vectorOf: UnitVectorOf): RankedItem[] {
  if (lambda >= 1 || list.length < 2) return [...list];
  const pool = list.slice(0, Math.max(depth, 0));
  const rest = list.slice(pool.length);
  const top = pool[0]?.relevance ?? 1;
  const low = pool[pool.length - 1]?.relevance ?? 0;
  const scale = top > low ? 1 / (top - low) : 0;
  const vectors = pool.map((x) => (x.dense >= 0 ? vectorOf(x.dense) : null));
  const closest = new Float64Array(pool.length).fill(0);
  const taken = new Uint8Array(pool.length);
  const out: RankedItem[] = [];
  for (let step = 0; step < pool.length; step++) {
    let best = -1;
    let bestValue = -Infinity;
    for (let k = 0; k < pool.length; k++) {
      if (taken[k]) continue;
      const value = lambda * (pool[k].relevance - low) * scale - (1 - lambda) * closest[k];
      if (value > bestValue) [best, bestValue] = [k, value];
    }
    taken[best] = 1;
    out.push(pool[best]);
    const v = vectors[best];
    if (v) for (let k = 0; k < pool.length; k++) if (!taken[k] && vectors[k]) closest[k] = Math.max(closest[k], cosine(v, vectors[k]!));
  }
  return [...out, ...rest];
}

/**
 * At most `cap` items of one category in every block of `window` consecutive positions: an item
 * that would exceed it waits for the next block (it is not dropped). Items without categories
 * are never held back.
 */
export function capPerCategory(list: readonly RankedItem[], cap: number, window: number, categoriesOf: (itemId: string) => readonly string[]): RankedItem[] {
  const out: RankedItem[] = [];
  let waiting = [...list];
  while (waiting.length) {
    const counts = new Map<string, number>();
    const held: RankedItem[] = [];
    let placed = 0;
    for (const item of waiting) {
      const cats = categoriesOf(item.itemId);
      if (placed < window && cats.every((c) => (counts.get(c) ?? 0) < cap)) {
        out.push(item);
        placed++;
        for (const c of cats) counts.set(c, (counts.get(c) ?? 0) + 1);
      } else held.push(item);
    }
    // A block nothing fits in (every waiting item over the cap): place them as they are.
    if (placed === 0) return [...out, ...held];
    waiting = held;
  }
  return out;
}

/** Mean pairwise cosine of the items with vectors (null below two): how alike a page is. */
export function intraListSimilarity(items: readonly RankedItem[], vectorOf: UnitVectorOf): number | null {
  const vectors = items.map((x) => (x.dense >= 0 ? vectorOf(x.dense) : null)).filter((v): v is Float32Array => v !== null);
  if (vectors.length < 2) return null;
  let sum = 0;
  let pairs = 0;
  for (let a = 0; a < vectors.length; a++) {
    for (let b = a + 1; b < vectors.length; b++) {
      sum += cosine(vectors[a], vectors[b]);
      pairs++;
    }
  }
  return sum / pairs;
}
