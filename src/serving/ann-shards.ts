import type { Index } from 'usearch';

/**
 * Rows per HNSW shard. Mapping a saved graph walks every node once (usearch's view computes each
 * node's offset), synchronously: measured 56–76 ms for 200,000 rows × 65 dimensions, so about
 * 0.3 s for one 1M-row graph, which held the API's loop that long. Shards of 2^17 rows keep
 * each mapping near 40 ms, with a yield between them; a search asks every shard and merges.
 */
export const SHARD_ROWS = 131_072;

/** [from, to) row ranges of the shards of `rows` rows. */
export function shardRanges(rows: number): [number, number][] {
  const out: [number, number][] = [];
  for (let from = 0; from < rows; from += SHARD_ROWS) out.push([from, Math.min(rows, from + SHARD_ROWS)]);
  return out;
}

/** The shard file `s` of an index saved as `base`. */
export const shardFile = (base: string, s: number): string => `${base}.${s}`;

/** usearch answers one query with Matches (no counts) and several with BatchMatches. */
interface Found {
  keys: BigUint64Array;
  distances: Float32Array;
  counts?: BigUint64Array;
  k?: number;
}

/**
 * The k nearest keys (global row ids) of each of `queries` / `dims` queries over every shard,
 * nearest first: each shard's k nearest, merged by distance.
 */
export function searchShards(shards: readonly Index[], queries: Float32Array, dims: number, k: number, threads: number): number[][] {
  const count = queries.length / dims;
  const merged: [number, number][][] = Array.from({ length: count }, () => []);
  for (const shard of shards) {
    const found = shard.search(queries, Math.min(k, shard.size()), threads) as unknown as Found;
    const width = found.k ?? found.keys.length;
    for (let q = 0; q < count; q++) {
      const n = found.counts ? Number(found.counts[q]) : found.keys.length;
      for (let c = 0; c < n; c++) merged[q].push([found.distances[q * width + c], Number(found.keys[q * width + c])]);
    }
  }
  return merged.map((m) => (shards.length === 1 ? m : m.sort((a, b) => a[0] - b[0] || a[1] - b[1])).slice(0, k).map(([, key]) => key));
}
