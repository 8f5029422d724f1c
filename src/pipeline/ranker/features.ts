import type { FeatureRow } from './fm.js';

/** Hash buckets for the sparse features (categories, labels): collisions are rare at a few thousand distinct values. */
export const RANKER_BUCKETS = 4096;

/** What a learned ranker reads, recorded with it so serving can tell whether the configured blend still matches. */
export interface RankerLayout {
  /** The blended sources whose scores are the dense features, in order. */
  sources: { name: string; type: string }[];
  /** Whether item categories are features. */
  categories: boolean;
  /** Item and user label keys whose values are features. */
  itemLabels: string[];
  userLabels: string[];
  buckets: number;
}

/** FNV-1a: a stable 32-bit hash of a feature's name. */
export function bucketOf(token: string, buckets: number): number {
  let h = 0x811c9dc5;
  for (let k = 0; k < token.length; k++) {
    h ^= token.charCodeAt(k);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % buckets;
}

/** An item's sparse features: each category (when the layout reads them), each declared label key=value. */
export function itemTokens(layout: RankerLayout, categories: readonly string[], labels: Readonly<Record<string, string>>): string[] {
  return [...(layout.categories ? categories.map((c) => `c:${c}`) : []), ...layout.itemLabels.filter((k) => labels[k] !== undefined).map((k) => `i:${k}=${labels[k]}`)];
}

/** A user's sparse features: each declared label key=value (crossed with the items' by the factorization machine). */
export function userTokens(layout: RankerLayout, labels: Readonly<Record<string, string>>): string[] {
  return layout.userLabels.filter((k) => labels[k] !== undefined).map((k) => `u:${k}=${labels[k]}`);
}

/** One row per candidate: the sources' scores of it (dense), its and the user's tokens hashed (sparse). */
export function featureRows(layout: RankerLayout, sourceScores: readonly Float32Array[], itemTokensOf: (k: number) => readonly string[], user: readonly string[], count: number): FeatureRow[] {
  const rows: FeatureRow[] = [];
  for (let k = 0; k < count; k++) {
    const dense = Float32Array.from(sourceScores, (s) => s[k]);
    const tokens = [...itemTokensOf(k), ...user];
    rows.push({ dense, sparse: Int32Array.from(new Set(tokens.map((t) => bucketOf(t, layout.buckets)))) });
  }
  return rows;
}
