import type { FeatureMatrix } from '../data/interactions.js';

/** Rows of feature columns with weights (a FeatureMatrix without its vocabulary). */
export interface Bag {
  indptr: Int32Array;
  indices: Int32Array;
  values: Float32Array;
}

/** Features by name and weight: what serving derives from a new item's or user's labels. */
export type NamedFeatures = readonly { name: string; weight: number }[];

/** Each row's weights scaled to unit length, so a long title weighs no more than one genre. */
export function normalisedFeatures(m: FeatureMatrix): Bag {
  const values = new Float32Array(m.values.length);
  for (let r = 0; r < m.rows; r++) {
    let norm = 0;
    for (let k = m.indptr[r]; k < m.indptr[r + 1]; k++) norm += m.values[k] * m.values[k];
    const s = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    for (let k = m.indptr[r]; k < m.indptr[r + 1]; k++) values[k] = m.values[k] * s;
  }
  return { indptr: m.indptr, indices: m.indices, values };
}

/** Row r = base row r + Σ weight × feature row, for every row of `bags`. */
export function composeRows(base: Float32Array, features: Float32Array, bags: Bag, d: number): Float32Array {
  const out = base.slice();
  const rows = bags.indptr.length - 1;
  for (let r = 0; r < rows; r++) {
    for (let k = bags.indptr[r]; k < bags.indptr[r + 1]; k++) {
      const o = bags.indices[k] * d;
      const w = bags.values[k];
      for (let f = 0; f < d; f++) out[r * d + f] += w * features[o + f];
    }
  }
  return out;
}

/** The vector (and bias) of named features over a vocabulary, weights scaled to unit length as in training. */
export function vectorOf(features: NamedFeatures, vocabulary: readonly string[], embeddings: Float32Array, biases: Float32Array | null, d: number): { vector: Float32Array; bias: number } {
  const column = columnsOf(vocabulary);
  const known = features.map((f) => [column.get(f.name), f.weight] as const).filter((e): e is readonly [number, number] => e[0] !== undefined);
  const norm = Math.sqrt(known.reduce((s, [, w]) => s + w * w, 0));
  const vector = new Float32Array(d);
  let bias = 0;
  for (const [c, w] of known) {
    const ws = w / norm;
    for (let f = 0; f < d; f++) vector[f] += ws * embeddings[c * d + f];
    if (biases) bias += ws * biases[c];
  }
  return { vector, bias };
}

/** Column of each vocabulary name, built once per vocabulary. */
const COLUMNS = new WeakMap<readonly string[], Map<string, number>>();
function columnsOf(vocabulary: readonly string[]): Map<string, number> {
  let m = COLUMNS.get(vocabulary);
  if (!m) COLUMNS.set(vocabulary, (m = new Map(vocabulary.map((name, c) => [name, c]))));
  return m;
}
