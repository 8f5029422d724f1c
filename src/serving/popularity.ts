import type { ServingRepository } from '../db/serving-repository.js';
import { topN } from './top-n.js';

const DAY_MS = 86_400_000;

export interface PopularityOptions {
  /** Days after which an interaction counts half. */
  halfLifeDays: number;
  /** Interactions older than this are ignored. */
  windowDays: number;
  /** Recomputed at most this often; requests in between read the cached ranking. */
  ttlMs: number;
}

export const POPULARITY_DEFAULTS: PopularityOptions = { halfLifeDays: 14, windowDays: 365, ttlMs: 30_000 };

interface Ranking {
  items: string[];
  scores: Float64Array;
  at: number;
}

/**
 * The fallback ranking for users without a model answer: item popularity with recent
 * interactions weighted up (exponential decay by age). One cached ranking, refreshed after the
 * TTL, so its memory is bounded by the catalogue.
 */
export class PopularityRanking {
  private cache: Ranking | null = null;

  constructor(
    private readonly repo: ServingRepository,
    private readonly options: PopularityOptions = POPULARITY_DEFAULTS,
    private readonly now: () => number = Date.now,
  ) {}

  invalidate(): void {
    this.cache = null;
  }

  private ranking(): Ranking {
    const now = this.now();
    if (this.cache && now - this.cache.at < this.options.ttlMs) return this.cache;
    const today = Math.floor(now / DAY_MS);
    const decay = Math.LN2 / this.options.halfLifeDays;
    const totals = new Map<string, number>();
    for (const row of this.repo.dailyCounts(now - this.options.windowDays * DAY_MS)) {
      const age = Math.max(0, today - row.day);
      totals.set(row.item, (totals.get(row.item) ?? 0) + row.count * Math.exp(-decay * age));
    }
    const items = [...totals.keys()];
    const scores = Float64Array.from(items, (id) => totals.get(id)!);
    const order = topN(scores, items.length);
    this.cache = { items: order.map((s) => items[s.item]), scores: Float64Array.from(order, (s) => s.score), at: now };
    return this.cache;
  }

  /** The `n` most popular items not excluded, best first. */
  top(n: number, exclude: (itemId: string) => boolean): { itemId: string; score: number }[] {
    const r = this.ranking();
    const out: { itemId: string; score: number }[] = [];
    for (let k = 0; k < r.items.length && out.length < n; k++) {
      if (!exclude(r.items[k])) out.push({ itemId: r.items[k], score: r.scores[k] });
    }
    return out;
  }
}
