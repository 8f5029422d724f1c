import type { DailyCount } from '../db/serving-repository.js';
import { Refreshed } from '../threads/refreshed.js';
import { topN } from './top-n.js';

const DAY_MS = 86_400_000;

export interface PopularityOptions {
  /** Days after which an interaction counts half. */
  halfLifeDays: number;
  /** Interactions older than this many days before the newest one are ignored; 0 = all time. */
  windowDays: number;
  /** Items kept in the ranking: bounds its memory and the scan of a heavily filtered request. */
  maxItems: number;
  /** Ratings at or below this are dislikes and count for nothing. */
  dislikeThreshold: number;
  /** Events count by their type's weight; types with a negative weight (dislike) count for nothing. */
  eventWeights: Readonly<Record<string, number>>;
}

export const POPULARITY_DEFAULTS: Pick<PopularityOptions, 'halfLifeDays' | 'windowDays' | 'maxItems'> = { halfLifeDays: 14, windowDays: 0, maxItems: 20_000 };

/** A ready popularity ranking, best first. */
export interface Ranking {
  items: string[];
  scores: Float64Array;
  /** When it was computed (epoch ms). */
  at: number;
  /** The newest items of the catalogue (not hidden), newest first, with when they were created. */
  latest: { items: string[]; createdAt: number[] };
}

export const EMPTY_RANKING: Ranking = { items: [], scores: new Float64Array(0), at: 0, latest: { items: [], createdAt: [] } };

/**
 * Recency-weighted popularity from per-item daily counts of positive feedback: a positive rating
 * counts 1, an event its type's weight (negative types nothing). Ages are measured from
 * `reference`, the newest interaction — not the wall clock, so an imported data set from 1998
 * still has a ranking.
 */
export function rankPopularity(counts: Iterable<DailyCount>, reference: number, options: PopularityOptions, now = reference): Omit<Ranking, 'latest'> {
  const today = Math.floor(reference / DAY_MS);
  const decay = Math.LN2 / options.halfLifeDays;
  const totals = new Map<string, number>();
  for (const row of counts) {
    const weight = row.type === null ? 1 : (options.eventWeights[row.type] ?? 0);
    if (weight <= 0) continue;
    const age = Math.max(0, today - row.day);
    totals.set(row.item, (totals.get(row.item) ?? 0) + weight * row.count * Math.exp(-decay * age));
  }
  const items = [...totals.keys()];
  const scores = Float64Array.from(items, (id) => totals.get(id)!);
  const order = topN(scores, Math.min(items.length, options.maxItems));
  return { items: order.map((s) => items[s.item]), scores: Float64Array.from(order, (s) => s.score), at: now };
}

export interface PopularitySource {
  /** Computes a fresh ranking off the event loop (a worker thread). */
  ranking(options: PopularityOptions, now: number): Promise<Ranking>;
}

/**
 * The fallback ranking for users without a model answer. Requests only read the ranking that is
 * ready; it is recomputed in the background every `refreshMs` after new interactions arrived
 * (at once while it is still empty), never inside a request.
 */
export class PopularityRanking {
  private readonly ranking: Refreshed<Ranking>;

  constructor(
    source: PopularitySource,
    refreshMs: number,
    options: PopularityOptions,
    log: { error(obj: object, msg: string): void } = { error: () => undefined },
    now: () => number = Date.now,
  ) {
    this.ranking = new Refreshed(
      EMPTY_RANKING,
      (at) => source.ranking(options, at),
      refreshMs,
      (err) => log.error({ err: err.message }, 'popularity refresh failed; the previous ranking keeps serving'),
      (ranking) => ranking.items.length === 0,
      now,
    );
  }

  /** Computes the first ranking and keeps it fresh on a timer. */
  start(): Promise<void> {
    return this.ranking.start();
  }

  stop(): void {
    this.ranking.stop();
  }

  /** New interactions arrived: recompute within `refreshMs` (an empty ranking at once). */
  changed(): void {
    this.ranking.changed();
  }

  /** Recomputes now (coalesced with one already running); requests keep the old ranking meanwhile. */
  refresh(): Promise<void> {
    return this.ranking.refresh();
  }

  private get current(): Ranking {
    return this.ranking.value;
  }

  /** When the ranking being served was computed (epoch ms; 0 before the first). */
  get computedAt(): number {
    return this.current.at;
  }

  /** The `n` newest items not excluded, newest first. */
  latest(n: number, exclude: (itemId: string) => boolean): { itemId: string; createdAt: number }[] {
    const { items, createdAt } = this.current.latest;
    const out: { itemId: string; createdAt: number }[] = [];
    for (let k = 0; k < items.length && out.length < n; k++) if (!exclude(items[k])) out.push({ itemId: items[k], createdAt: createdAt[k] });
    return out;
  }

  /** The `n` most popular items not excluded, best first. */
  top(n: number, exclude: (itemId: string) => boolean): { itemId: string; score: number }[] {
    const r = this.current;
    const out: { itemId: string; score: number }[] = [];
    for (let k = 0; k < r.items.length && out.length < n; k++) {
      if (!exclude(r.items[k])) out.push({ itemId: r.items[k], score: r.scores[k] });
    }
    return out;
  }
}
