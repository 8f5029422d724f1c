import type { LeaderboardConfig, PipelineConfig } from '../../config/pipeline.js';
import { leaderboards } from '../../config/pipeline.js';
import type { LeaderboardRanking, LeaderboardSpec } from '../../db/leaderboards.js';
import type { Leaderboards } from '../../db/thread/database-thread.js';
import { Refreshed } from '../../threads/refreshed.js';

/** Items kept per leaderboard and in the latest list: bounds memory and a filtered request's scan. */
export const LEADERBOARD_MAX_ITEMS = 20_000;

/** A leaderboard ready for requests: the ranking and each item's score relative to the top one. */
export interface ReadyBoard {
  ranking: LeaderboardRanking;
  normalised: ReadonlyMap<string, number>;
}

interface Book {
  at: number;
  boards: ReadonlyMap<string, ReadyBoard>;
  latest: { items: string[]; createdAt: number[]; byItem: ReadonlyMap<string, number> };
}

const EMPTY_BOOK: Book = { at: 0, boards: new Map(), latest: { items: [], createdAt: [], byItem: new Map() } };

/** The database thread's side of the book. */
export interface LeaderboardSource {
  leaderboards(specs: readonly LeaderboardSpec[], dislikeAt: number, latest: number, now: number): Promise<Leaderboards>;
}

/** What one interaction counts on a leaderboard: its own `feedback`, else ratings 1 and events their type's weight. */
export function specOf(name: string, c: LeaderboardConfig, eventWeights: Readonly<Record<string, number>>): LeaderboardSpec {
  const feedback = c.feedback ?? { rating: 1, ...Object.fromEntries(Object.entries(eventWeights).filter(([, w]) => w > 0)) };
  return { name, windowDays: c.windowDays, halfLifeDays: c.halfLifeDays, clock: c.clock, ...(c.category ? { category: c.category } : {}), ...(c.label ? { label: c.label } : {}), feedback, maxItems: LEADERBOARD_MAX_ITEMS };
}

function ready(l: Leaderboards): Book {
  const boards = new Map<string, ReadyBoard>();
  for (const ranking of l.boards) {
    const top = ranking.scores[0] ?? 0;
    boards.set(ranking.name, { ranking, normalised: new Map(ranking.items.map((id, k) => [id, top > 0 ? ranking.scores[k] / top : 0])) });
  }
  return {
    at: l.at,
    boards,
    latest: { items: l.latest.map((x) => x.item), createdAt: l.latest.map((x) => x.createdAt), byItem: new Map(l.latest.map((x) => [x.item, x.createdAt])) },
  };
}

/**
 * Every configured leaderboard and the newest items, as requests read them: recomputed by the
 * database thread every POPULARITY_REFRESH_MS after new interactions (at once while empty), never
 * inside a request.
 */
export class LeaderboardBook {
  private readonly book: Refreshed<Book>;

  constructor(
    source: LeaderboardSource,
    pipeline: PipelineConfig,
    options: { refreshMs: number; dislikeThreshold: number; eventWeights: Readonly<Record<string, number>> },
    log: { error(obj: object, msg: string): void } = { error: () => undefined },
  ) {
    const specs = leaderboards(pipeline).map(([name, c]) => specOf(name, c, options.eventWeights));
    this.book = new Refreshed(
      EMPTY_BOOK,
      async (now) => ready(await source.leaderboards(specs, options.dislikeThreshold, LEADERBOARD_MAX_ITEMS, now)),
      options.refreshMs,
      (err) => log.error({ err: err.message }, 'leaderboard refresh failed; the previous ones keep serving'),
      // Starved while the popular board (what new users see) is empty: narrower boards may stay empty for good.
      (b) => (b.boards.get(pipeline.popular)?.ranking.items.length ?? 0) === 0,
    );
  }

  /**
   * A book of rankings computed elsewhere (the retrain job's, over its training split): the same
   * sources read it, so the learned ranker is fit on the features serving will give it.
   */
  static fixed(pipeline: PipelineConfig, leaderboards: Leaderboards): LeaderboardBook {
    const book = new LeaderboardBook({ leaderboards: async () => leaderboards }, pipeline, { refreshMs: 86_400_000, dislikeThreshold: 0, eventWeights: {} });
    book.book.set(ready(leaderboards));
    return book;
  }

  start(): Promise<void> {
    return this.book.start();
  }

  stop(): void {
    this.book.stop();
  }

  /** New interactions arrived: recompute within the refresh period (at once while the popular board is empty). */
  changed(): void {
    this.book.changed();
  }

  refresh(): Promise<void> {
    return this.book.refresh();
  }

  /** When the boards being served were computed (epoch ms; 0 before the first). */
  get computedAt(): number {
    return this.book.value.at;
  }

  board(name: string): ReadyBoard | null {
    return this.book.value.boards.get(name) ?? null;
  }

  get latest(): Book['latest'] {
    return this.book.value.latest;
  }

  /** The `n` best items of a board that `exclude` lets through. */
  top(name: string, n: number, exclude: (itemId: string) => boolean): { itemId: string; score: number }[] {
    const b = this.board(name)?.ranking;
    const out: { itemId: string; score: number }[] = [];
    for (let k = 0; b && k < b.items.length && out.length < n; k++) if (!exclude(b.items[k])) out.push({ itemId: b.items[k], score: b.scores[k] });
    return out;
  }

  /** The `n` newest items `exclude` lets through, newest first. */
  newest(n: number, exclude: (itemId: string) => boolean): { itemId: string; createdAt: number }[] {
    const { items, createdAt } = this.latest;
    const out: { itemId: string; createdAt: number }[] = [];
    for (let k = 0; k < items.length && out.length < n; k++) if (!exclude(items[k])) out.push({ itemId: items[k], createdAt: createdAt[k] });
    return out;
  }
}
