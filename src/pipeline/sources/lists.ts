import type { SourceConfig } from '../../config/pipeline.js';
import type { CandidateItem, RequestContext } from '../context.js';
import type { LeaderboardBook } from './leaderboards.js';
import type { CandidateSource, SourceAnswer } from './source.js';

const DAY_MS = 86_400_000;
/** The latest source's score halves every week of an item's age. */
const LATEST_HALF_LIFE_DAYS = 7;

const freshness = (createdAt: number, now: number): number => 2 ** (-Math.max(0, now - createdAt) / (LATEST_HALF_LIFE_DAYS * DAY_MS));

/**
 * A leaderboard as a source: its best items the request may show, scored relative to the board's
 * top item (1). Cost: a walk down the ready ranking (at most 20,000 items) until n pass the filters.
 */
export class LeaderboardSource implements CandidateSource {
  constructor(
    readonly name: string,
    readonly config: SourceConfig,
    private readonly book: LeaderboardBook,
  ) {}

  propose(ctx: RequestContext, n: number): SourceAnswer {
    const board = this.book.board(this.name);
    if (!board || board.ranking.items.length === 0) return { items: [], note: 'the leaderboard is empty (no positive feedback in its window yet)' };
    return { items: this.book.top(this.name, n, ctx.skip).map((x) => ({ itemId: x.itemId, score: board.normalised.get(x.itemId) ?? 0 })) };
  }

  scoreItems(_ctx: RequestContext, items: readonly CandidateItem[]): Float32Array {
    const normalised = this.book.board(this.name)?.normalised;
    return Float32Array.from(items, (c) => normalised?.get(c.itemId) ?? 0);
  }
}

/**
 * `latest`: the newest visible items of the catalogue, scored by freshness (1 when just created,
 * halving every 7 days). Cost: a walk down the ready list (at most 20,000 items).
 */
export class LatestSource implements CandidateSource {
  constructor(
    readonly name: string,
    readonly config: SourceConfig,
    private readonly book: LeaderboardBook,
  ) {}

  propose(ctx: RequestContext, n: number): SourceAnswer {
    const items = this.book.newest(n, ctx.skip);
    if (items.length === 0) return { items: [], note: 'no visible item in the catalogue' };
    return { items: items.map((x) => ({ itemId: x.itemId, score: freshness(x.createdAt, ctx.now) })) };
  }

  scoreItems(ctx: RequestContext, items: readonly CandidateItem[]): Float32Array {
    const byItem = this.book.latest.byItem;
    return Float32Array.from(items, (c) => {
      const at = byItem.get(c.itemId);
      return at === undefined ? 0 : freshness(at, ctx.now);
    });
  }
}
