import type { ServingRepository } from '../db/serving-repository.js';
import type { Catalogue, ItemFilter } from '../serving/catalogue.js';
import type { ServingIndex } from '../serving/index.js';
import type { RequestContext } from './context.js';
import type { Recommender } from './recommender.js';
import type { LeaderboardBook } from './sources/leaderboards.js';

export class UnknownItemError extends Error {}
export class UnknownUserError extends Error {}
export class UnknownLeaderboardError extends Error {}
/** The model cannot answer this kind of question (e.g. similar users without user vectors). */
export class UnsupportedByModelError extends Error {}

export interface SimilarItems {
  model: string;
  modelVersion: string | null;
  source: 'model' | 'fallback';
  method: 'trained' | 'popularity';
  items: { itemId: string; score: number; source: string }[];
}

/**
 * The questions about items and users that are not a user's ranked list: similar items, similar
 * users, leaderboards and the newest items. Each reads ready in-memory structures (the serving
 * index, the leaderboard book); only an item the index does not know costs one database lookup.
 */
export class ItemQueries {
  constructor(
    private readonly recommender: Recommender,
    private readonly repo: ServingRepository,
    private readonly book: LeaderboardBook,
    private readonly catalogue: Catalogue,
  ) {}

  private get popularName(): string {
    return this.recommender.pipeline.popular;
  }

  /** A context that holds one item as the "recent positive" an item-to-item source starts from. */
  private itemContext(index: ServingIndex, i: number, itemId: string, filter: ItemFilter): RequestContext {
    const skipExt = this.catalogue.skipperByExternalId(filter);
    const skipDense = this.catalogue.skipper(index, filter);
    return { userId: null, index, scoring: null, positives: [], positivesDense: [i], userLabels: {}, skip: (id) => id === itemId || skipExt(id), skipDense: (j) => j === i || skipDense(j), seenDense: (j) => j === i, filter, now: Date.now() };
  }

  /**
   * "People who liked this also liked": the model's nearest items (cosine over its item vectors,
   * or an item-based model's neighbour lists), or a named item-to-item source; the popular
   * leaderboard when the model does not know the item.
   */
  async similar(itemId: string, limit: number, options: { model?: string; filter?: ItemFilter; source?: string } = {}): Promise<SimilarItems> {
    const index = this.recommender.index(options.model);
    // The index answers for every item it knows; only items newer than the snapshot need the database.
    if (!index?.itemIndex.has(itemId) && !(await this.repo.itemExists(itemId))) throw new UnknownItemError(itemId);
    const filter = options.filter ?? {};
    const i = index?.itemIndex.get(itemId);
    if (index && i !== undefined) {
      const source = options.source ? this.recommender.runtime.sources.get(options.source) : undefined;
      if (options.source && source?.config.type !== 'item-to-item') throw new UnsupportedByModelError(`source "${options.source}" is not an item-to-item source`);
      const name = source?.name ?? 'model';
      const skip = this.catalogue.skipper(index, filter);
      const items = source
        ? source.propose(this.itemContext(index, i, itemId, filter), limit).items.map((p) => ({ itemId: p.itemId, score: p.score, source: name }))
        : index.similarTo(i, limit, (j) => j === i || skip(j)).map((s) => ({ itemId: index.itemIds[s.item], score: s.score, source: name }));
      if (items.length > 0 || index.kind !== 'popularity') return { model: index.modelName, modelVersion: index.version, source: 'model', method: 'trained', items };
    }
    const skip = this.catalogue.skipperByExternalId(filter);
    const items = this.book.top(this.popularName, limit, (id) => id === itemId || skip(id)).map((x) => ({ ...x, source: this.popularName }));
    return { model: 'popularity', modelVersion: index?.version ?? null, source: 'fallback', method: 'popularity', items };
  }

  /** Users with the closest vectors in the serving (or named) model; only users it was trained on. */
  similarUsers(userId: string, limit: number, model?: string): { model: string; modelVersion: string; users: { userId: string; score: number }[] } {
    const index = this.recommender.index(model);
    const u = index?.userIndex.get(userId);
    if (!index || u === undefined) throw new UnknownUserError(userId);
    const found = index.similarUsers(u, limit);
    if (!found) throw new UnsupportedByModelError(`model ${index.modelName} has no user vectors to compare; ask a vector model with ?model= (e.g. ials, bpr, gmf)`);
    return { model: index.modelName, modelVersion: index.version, users: found.map((s) => ({ userId: index.userIds[s.item], score: s.score })) };
  }

  /** A leaderboard's best items, filtered like recommendations (the popular one by default). */
  leaderboard(name: string | undefined, limit: number, filter: ItemFilter = {}): { name: string; computedAt: number; items: { itemId: string; score: number }[] } {
    const board = name ?? this.popularName;
    const config = this.recommender.pipeline.sources[board];
    if (config?.type !== 'leaderboard') throw new UnknownLeaderboardError(`no leaderboard named "${board}"`);
    return { name: board, computedAt: this.book.computedAt, items: this.book.top(board, limit, this.catalogue.skipperByExternalId(filter)) };
  }

  /** The newest items of the catalogue, filtered like recommendations. */
  latest(limit: number, filter: ItemFilter = {}): { itemId: string; createdAt: number }[] {
    return this.book.newest(limit, this.catalogue.skipperByExternalId(filter));
  }
}
