import type { ServingRepository } from '../db/serving-repository.js';
import type { Catalogue, ItemFilter } from '../serving/catalogue.js';
import type { ServingIndex } from '../serving/index.js';
import type { RequestContext } from './context.js';
import type { Recommender } from './recommender.js';
import type { LeaderboardBook } from './sources/leaderboards.js';
import type { ContentIndex } from '../serving/content-index.js';

export class UnknownItemError extends Error {}
export class UnknownUserError extends Error {}
export class UnknownLeaderboardError extends Error {}
/** The model cannot answer this kind of question (e.g. similar users without user vectors). */
export class UnsupportedByModelError extends Error {}

/** Interactions at which collaborative and content similarity weigh the same. */
const CONTENT_SHRINKAGE = 20;

/** α · content + (1 − α) · collaborative over both lists' items, credited to the larger part. */
function blend(collab: readonly { itemId: string; score: number }[], content: readonly { itemId: string; score: number }[], alpha: number, n: number): SimilarItems['items'] {
  const parts = new Map<string, { c: number; t: number }>();
  for (const x of collab) parts.set(x.itemId, { c: x.score, t: 0 });
  for (const x of content) parts.set(x.itemId, { c: parts.get(x.itemId)?.c ?? 0, t: x.score });
  return [...parts]
    .map(([itemId, p]) => ({ itemId, score: (1 - alpha) * p.c + alpha * p.t, source: (1 - alpha) * p.c >= alpha * p.t ? 'model' : 'content' }))
    .sort((a, b) => b.score - a.score || (a.itemId < b.itemId ? -1 : 1))
    .slice(0, n);
}

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
    private readonly content: ContentIndex,
  ) {}

  private get popularName(): string {
    return this.recommender.pipeline.popular;
  }

  /** A context that holds one item as the "recent positive" an item-to-item source starts from. */
  private itemContext(index: ServingIndex, i: number, itemId: string, filter: ItemFilter): RequestContext {
    const skipExt = this.catalogue.skipperByExternalId(filter);
    const skipDense = this.catalogue.skipper(index, filter);
    return { userId: null, index, scoring: null, positives: [], positivesDense: [i], userLabels: {}, skip: (id) => id === itemId || skipExt(id), skipDense: (j) => j === i || skipDense(j), seenDense: (j) => j === i, filter, now: Date.now(), hide: () => undefined };
  }

  /**
   * "People who liked this also liked": the model's nearest items (cosine over its item vectors, an
   * item-based model's neighbour lists, or a named item-to-item source), blended with content
   * similarity (TF-IDF over categories and labels) by weight K / (K + interactions): an item with
   * no interactions is similar by content alone, one with many by collaboration. A hybrid model's
   * items newer than the snapshot take part by their feature vectors. The popular leaderboard when
   * nothing else can say.
   */
  async similar(itemId: string, limit: number, options: { model?: string; filter?: ItemFilter; source?: string } = {}): Promise<SimilarItems> {
    const index = this.recommender.index(options.model);
    const i = index?.itemIndex.get(itemId);
    const knownHere = i !== undefined || (index?.cold?.has(itemId) ?? false) || this.content.has(itemId);
    // The index answers for every item it knows; only items newer than the snapshot need the database.
    if (!knownHere && !(await this.repo.itemExists(itemId))) throw new UnknownItemError(itemId);
    const filter = options.filter ?? {};
    const skip = this.catalogue.skipperByExternalId(filter);
    const skipOther = (id: string): boolean => id === itemId || skip(id);
    if (options.source) return this.fromSource(index, i, itemId, limit, filter, options.source);
    const collab = index ? this.collaborative(index, i, itemId, limit, filter) : [];
    const content = this.content.similarTo(itemId, limit, skipOther);
    if (collab.length || content.length) {
      const interactions = i !== undefined ? (index!.popularity[i] ?? 0) : 0;
      const alpha = content.length === 0 ? 0 : collab.length === 0 ? 1 : CONTENT_SHRINKAGE / (CONTENT_SHRINKAGE + interactions);
      const items = blend(collab, content, alpha, limit);
      return { model: index?.modelName ?? 'content', modelVersion: index?.version ?? null, source: 'model', method: 'trained', items };
    }
    const items = this.book.top(this.popularName, limit, skipOther).map((x) => ({ ...x, source: this.popularName }));
    return { model: 'popularity', modelVersion: index?.version ?? null, source: 'fallback', method: 'popularity', items };
  }

  /** A named item-to-item source's neighbours of the item (the index must know it). */
  private fromSource(index: ServingIndex | null, i: number | undefined, itemId: string, limit: number, filter: ItemFilter, name: string): SimilarItems {
    const source = this.recommender.runtime.sources.get(name);
    if (source?.config.type !== 'item-to-item') throw new UnsupportedByModelError(`source "${name}" is not an item-to-item source`);
    if (!index || i === undefined) throw new UnsupportedByModelError(`the serving model does not know item ${itemId} yet; ask without source= for its content neighbours`);
    const items = source.propose(this.itemContext(index, i, itemId, filter), limit).items.map((p) => ({ itemId: p.itemId, score: p.score, source: name }));
    return { model: index.modelName, modelVersion: index.version, source: 'model', method: 'trained', items };
  }

  /** The model's nearest items to a known item, or to a cold item's feature vector; cold items join by their vectors. */
  private collaborative(index: ServingIndex, i: number | undefined, itemId: string, limit: number, filter: ItemFilter): { itemId: string; score: number }[] {
    const skipDense = this.catalogue.skipper(index, filter);
    const skip = this.catalogue.skipperByExternalId(filter);
    const d = index.dims;
    const unit = i !== undefined ? (index.itemUnit?.slice(i * d, (i + 1) * d) ?? null) : (index.cold?.unitOf(itemId) ?? null);
    const warm =
      i !== undefined
        ? index.similarTo(i, limit, (j) => j === i || skipDense(j))
        : unit
          ? index.similarToVector(unit, limit, skipDense)
          : [];
    const out = warm.map((s) => ({ itemId: index.itemIds[s.item], score: s.score }));
    if (unit && index.cold?.size) out.push(...index.cold.nearest(unit, limit, (id) => id === itemId || skip(id)));
    return out.sort((a, b) => b.score - a.score).slice(0, limit);
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
