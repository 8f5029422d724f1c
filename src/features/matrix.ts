import type { FeaturesConfig } from '../config/features.js';
import type { FeatureMatrix } from '../data/interactions.js';
import { featuresOf, type Feature, type Side } from './encode.js';

/** What the catalogue says about one entity. */
export interface EntityFacts {
  categories: readonly string[];
  labels: Readonly<Record<string, string>>;
}

/**
 * The features of `ids` (dense order) as a matrix over a vocabulary of the most frequent features
 * (at most `features.vocabulary`; ties by name), each row cut to `maxPerEntity` features. Labels
 * the schema cannot read are skipped, not fatal: stored data predating a schema must still train.
 */
export function featureMatrix(config: FeaturesConfig, side: Side, ids: readonly string[], factsOf: (id: string) => EntityFacts | undefined): FeatureMatrix {
  const rows: Feature[][] = ids.map((id) => {
    const facts = factsOf(id);
    if (!facts) return [];
    try {
      return featuresOf(config, side, facts.categories, facts.labels).slice(0, config.maxPerEntity);
    } catch {
      return [];
    }
  });
  const frequency = new Map<string, number>();
  for (const row of rows) for (const f of row) frequency.set(f.name, (frequency.get(f.name) ?? 0) + 1);
  const vocabulary = [...frequency].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, config.vocabulary).map((e) => e[0]);
  return fromVocabulary(rows, vocabulary);
}

/** Rows of named features as a matrix over a fixed vocabulary (names it does not hold are dropped). */
export function fromVocabulary(rows: readonly (readonly Feature[])[], vocabulary: readonly string[]): FeatureMatrix {
  const column = new Map(vocabulary.map((name, c) => [name, c]));
  const indptr = new Int32Array(rows.length + 1);
  const indices: number[] = [];
  const values: number[] = [];
  rows.forEach((row, r) => {
    const kept = row.map((f) => [column.get(f.name), f.weight] as const).filter((e): e is readonly [number, number] => e[0] !== undefined);
    const merged = new Map<number, number>();
    for (const [c, w] of kept) merged.set(c, (merged.get(c) ?? 0) + w);
    for (const [c, w] of [...merged].sort((a, b) => a[0] - b[0])) {
      indices.push(c);
      values.push(w);
    }
    indptr[r + 1] = indices.length;
  });
  return { rows: rows.length, indptr, indices: Int32Array.from(indices), values: Float32Array.from(values), vocabulary };
}
