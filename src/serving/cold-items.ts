import { HybridModel } from '../models/hybrid.js';
import type { NamedFeatures } from '../models/hybrid-features.js';
import type { ServingIndex } from './index.js';

/** Items newer than the snapshot a hybrid index keeps vectors for at most (memory: d + 2 floats each). */
export const MAX_COLD_ITEMS = 100_000;

export interface ColdScored {
  itemId: string;
  score: number;
}

/**
 * Items the serving hybrid model was not trained on but the catalogue describes (categories,
 * labels): each gets its vector from its features the moment it is written, so it can be
 * recommended and has similar items before any retrain. Scored by exact scan (at most
 * MAX_COLD_ITEMS rows), beside the index's own items.
 */
export class ColdItems {
  private ids: string[] = [];
  private readonly position = new Map<string, number>();
  private vectors: Float32Array;
  private units: Float32Array;
  private biases: Float32Array;
  readonly dims: number;

  constructor(private readonly model: HybridModel) {
    this.dims = model.config.factors;
    this.vectors = new Float32Array(64 * this.dims);
    this.units = new Float32Array(64 * this.dims);
    this.biases = new Float32Array(64);
  }

  get size(): number {
    return this.ids.length;
  }

  has(itemId: string): boolean {
    return this.position.has(itemId);
  }

  /** Sets an item's vector from its features; an item none of whose features the model knows is dropped. Returns whether it is kept. */
  upsert(itemId: string, features: NamedFeatures): boolean {
    const { vector, bias } = this.model.itemVectorFor(features);
    let norm = 0;
    for (let f = 0; f < this.dims; f++) norm += vector[f] * vector[f];
    if (norm === 0) {
      this.remove(itemId);
      return false;
    }
    let p = this.position.get(itemId);
    if (p === undefined) {
      if (this.ids.length >= MAX_COLD_ITEMS) return false;
      p = this.ids.length;
      this.grow(p + 1);
      this.ids.push(itemId);
      this.position.set(itemId, p);
    }
    const d = this.dims;
    this.vectors.set(vector, p * d);
    for (let f = 0; f < d; f++) this.units[p * d + f] = vector[f] / Math.sqrt(norm);
    this.biases[p] = bias;
    return true;
  }

  remove(itemId: string): void {
    const p = this.position.get(itemId);
    if (p === undefined) return;
    const last = this.ids.length - 1;
    const d = this.dims;
    if (p !== last) {
      this.ids[p] = this.ids[last];
      this.position.set(this.ids[p], p);
      this.vectors.copyWithin(p * d, last * d, (last + 1) * d);
      this.units.copyWithin(p * d, last * d, (last + 1) * d);
      this.biases[p] = this.biases[last];
    }
    this.ids.pop();
    this.position.delete(itemId);
  }

  /** The unit vector of a cold item (for its similar items), or null. */
  unitOf(itemId: string): Float32Array | null {
    const p = this.position.get(itemId);
    return p === undefined ? null : this.units.slice(p * this.dims, (p + 1) * this.dims);
  }

  /** The n best cold items for a user vector (dot plus bias, the index's scoring). */
  top(v: Float32Array, n: number, skip: (itemId: string) => boolean): ColdScored[] {
    return this.best(this.vectors, v, n, skip, true);
  }

  /** The n cold items closest (cosine) to a unit vector. */
  nearest(unit: Float32Array, n: number, skip: (itemId: string) => boolean): ColdScored[] {
    return this.best(this.units, unit, n, skip, false);
  }

  private best(rows: Float32Array, v: Float32Array, n: number, skip: (itemId: string) => boolean, withBias: boolean): ColdScored[] {
    const d = this.dims;
    const out: ColdScored[] = [];
    for (let p = 0; p < this.ids.length; p++) {
      let s = withBias ? this.biases[p] : 0;
      for (let f = 0; f < d; f++) s += rows[p * d + f] * v[f];
      if (out.length < n || s > out[out.length - 1].score) {
        if (skip(this.ids[p])) continue;
        out.push({ itemId: this.ids[p], score: s });
        out.sort((a, b) => b.score - a.score);
        if (out.length > n) out.pop();
      }
    }
    return out;
  }

  private grow(rows: number): void {
    const cap = this.biases.length;
    if (rows <= cap) return;
    const next = Math.min(MAX_COLD_ITEMS, cap * 2);
    const d = this.dims;
    const grown = (a: Float32Array, width: number): Float32Array => {
      const b = new Float32Array(next * width);
      b.set(a);
      return b;
    };
    this.vectors = grown(this.vectors, d);
    this.units = grown(this.units, d);
    this.biases = grown(this.biases, 1);
  }
}

/** The cold-item overlay an index can have: only a hybrid model that reads item features. */
export function coldItemsFor(index: ServingIndex): ColdItems | null {
  return index.model instanceof HybridModel && index.model.hasFeatures ? new ColdItems(index.model) : null;
}
