import type { Feature } from '../features/encode.js';

/** Postings walked per feature of a query at most: bounds a query whatever the catalogue holds. */
export const MAX_POSTINGS_WALKED = 1000;
/** Feature occurrences kept over the whole catalogue at most (memory: ~12 bytes each). */
export const MAX_POSTINGS = 10_000_000;

export interface ContentScored {
  itemId: string;
  score: number;
}

/**
 * Item-to-item similarity by content: TF-IDF cosine over the catalogue's content features
 * (categories, label values, text n-grams), from an inverted index kept in step with catalogue
 * writes. Works for items nobody has interacted with yet. Cost of a query: its features × at most
 * MAX_POSTINGS_WALKED postings each, plus one norm per candidate.
 */
export class ContentIndex {
  private readonly itemFeatures = new Map<string, Feature[]>();
  private readonly weights = new Map<string, Map<string, number>>();
  private readonly postings = new Map<string, Set<string>>();
  private total = 0;

  get size(): number {
    return this.itemFeatures.size;
  }

  /** Sets (or clears, with no features) an item's features. */
  set(itemId: string, features: readonly Feature[]): void {
    this.remove(itemId);
    if (features.length === 0 || this.total + features.length > MAX_POSTINGS) return;
    this.itemFeatures.set(itemId, [...features]);
    this.weights.set(itemId, new Map(features.map((f) => [f.name, f.weight])));
    for (const f of features) {
      let list = this.postings.get(f.name);
      if (!list) this.postings.set(f.name, (list = new Set()));
      list.add(itemId);
    }
    this.total += features.length;
  }

  remove(itemId: string): void {
    const old = this.itemFeatures.get(itemId);
    if (!old) return;
    for (const f of old) {
      const list = this.postings.get(f.name);
      list?.delete(itemId);
      if (list?.size === 0) this.postings.delete(f.name);
    }
    this.total -= old.length;
    this.itemFeatures.delete(itemId);
    this.weights.delete(itemId);
  }

  has(itemId: string): boolean {
    return this.itemFeatures.has(itemId);
  }

  private idf(name: string): number {
    return Math.log((1 + this.itemFeatures.size) / (1 + (this.postings.get(name)?.size ?? 0))) + 1;
  }

  private norm(features: readonly Feature[]): number {
    let s = 0;
    for (const f of features) s += (f.weight * this.idf(f.name)) ** 2;
    return Math.sqrt(s);
  }

  /** The items most similar to `itemId` by content (cosine of TF-IDF vectors, in [0, 1]). */
  similarTo(itemId: string, n: number, skip: (itemId: string) => boolean): ContentScored[] {
    const features = this.itemFeatures.get(itemId);
    return features ? this.similarToFeatures(features, n, (id) => id === itemId || skip(id)) : [];
  }

  /** The items most similar to a set of features. */
  similarToFeatures(features: readonly Feature[], n: number, skip: (itemId: string) => boolean): ContentScored[] {
    const dots = new Map<string, number>();
    for (const f of features) {
      const list = this.postings.get(f.name);
      if (!list) continue;
      const idf = this.idf(f.name);
      let walked = 0;
      for (const other of list) {
        if (++walked > MAX_POSTINGS_WALKED) break;
        const w = this.weights.get(other)!.get(f.name)!;
        dots.set(other, (dots.get(other) ?? 0) + f.weight * idf * w * idf);
      }
    }
    const q = this.norm(features);
    const scored: ContentScored[] = [];
    for (const [other, dot] of dots) {
      if (skip(other)) continue;
      scored.push({ itemId: other, score: q > 0 ? dot / (q * this.norm(this.itemFeatures.get(other)!)) : 0 });
    }
    return scored.sort((a, b) => b.score - a.score || (a.itemId < b.itemId ? -1 : 1)).slice(0, n);
  }
}
