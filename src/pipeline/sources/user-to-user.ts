import type { SourceConfig } from '../../config/pipeline.js';
import type { CandidateItem, RequestContext } from '../context.js';
import { proposalsFrom, type CandidateSource, type SourceAnswer } from './source.js';

type UserToUserConfig = Extract<SourceConfig, { type: 'user-to-user' }>;

interface Votes {
  scores: Map<number, number>;
}

/**
 * `user-to-user`: what the most similar users liked recently. Neighbours are the closest user
 * vectors of the serving model to this user's (trained or folded in; exact below ANN_MIN_ITEMS
 * users, approximate above); their recent positives come from the snapshot (at most recentItems
 * each). An item's score is the similarity-weighted share of the neighbours who liked it, in
 * [0, 1]. Models without user vectors (EASE, ItemKNN) have no neighbours to ask.
 */
export class UserToUserSource implements CandidateSource {
  private readonly memo = new WeakMap<RequestContext, Votes | null>();

  constructor(
    readonly name: string,
    readonly config: UserToUserConfig,
  ) {}

  /** The neighbours' votes, computed once per request (propose and scoreItems both read them). */
  private votes(ctx: RequestContext): Votes | null {
    if (this.memo.has(ctx)) return this.memo.get(ctx)!;
    const votes = this.count(ctx);
    this.memo.set(ctx, votes);
    return votes;
  }

  private count(ctx: RequestContext): Votes | null {
    const index = ctx.index;
    const recent = index?.artifacts.recent;
    const v = ctx.scoring?.vector();
    if (!index || !recent || !v) return null;
    const self = ctx.userId !== null ? index.userIndex.get(ctx.userId) : undefined;
    const neighbours = (index.similarUsersTo(v, this.config.neighbours + 1) ?? []).filter((s) => s.item !== self && s.score > 0).slice(0, this.config.neighbours);
    const total = neighbours.reduce((sum, s) => sum + s.score, 0);
    const scores = new Map<number, number>();
    if (total === 0) return { scores };
    for (const { item: w, score: sim } of neighbours) {
      const to = Math.min(recent.indptr[w + 1], recent.indptr[w] + this.config.recentItems);
      for (let p = recent.indptr[w]; p < to; p++) {
        const j = recent.indices[p];
        scores.set(j, (scores.get(j) ?? 0) + sim / total);
      }
    }
    return { scores };
  }

  propose(ctx: RequestContext, n: number): SourceAnswer {
    if (!ctx.index) return { items: [], note: 'no model is serving yet' };
    const votes = this.votes(ctx);
    if (!votes) return { items: [], note: ctx.index.userVectors ? 'no user vector to compare (no history, or a snapshot without recent items)' : `model ${ctx.index.modelName} has no user vectors` };
    // No `because`: the reasons would name other users.
    return { items: proposalsFrom(ctx, votes.scores, n) };
  }

  scoreItems(ctx: RequestContext, items: readonly CandidateItem[]): Float32Array {
    const out = new Float32Array(items.length);
    const votes = this.votes(ctx);
    if (votes) items.forEach((c, k) => (out[k] = c.dense >= 0 ? (votes.scores.get(c.dense) ?? 0) : 0));
    return out;
  }
}
