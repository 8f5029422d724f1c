/** A page after exploration: which slots were drawn at random, and every slot's propensity. */
export interface Explored<T> {
  items: T[];
  /** Per slot, the probability the logging policy put this item in this slot. */
  propensities: number[];
  explored: boolean[];
  poolSize: number;
}

/**
 * ε-exploration of a ranked list: each of the page's slots independently, with probability ε,
 * is filled with an item drawn uniformly (without replacement) from the `pool` ranked just below
 * the page. By symmetry a pool item lands in an exploring slot with probability 1/|pool|, so the
 * logged propensities are exact: (1 − ε) for the ranked item in its own slot, ε/|pool| for a
 * drawn one. A pool smaller than the page leaves the page as ranked (propensity 1): with fewer
 * items than slots a late slot could find the pool empty, and its propensities would no longer be exact.
 */
export function explore<T>(page: readonly T[], pool: readonly T[], epsilon: number, random: () => number): Explored<T> {
  const items = [...page];
  const remaining = [...pool];
  const poolSize = pool.length;
  if (epsilon <= 0 || poolSize === 0 || poolSize < page.length) return { items, propensities: items.map(() => 1), explored: items.map(() => false), poolSize: 0 };
  const explored = items.map(() => false);
  for (let k = 0; k < items.length; k++) {
    if (random() >= epsilon) continue;
    const j = Math.floor(random() * remaining.length);
    items[k] = remaining[j];
    remaining.splice(j, 1);
    explored[k] = true;
  }
  return { items, propensities: explored.map((e) => (e ? epsilon / poolSize : 1 - epsilon)), explored, poolSize };
}
