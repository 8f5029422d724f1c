import type { PipelineConfig } from '../config/pipeline.js';
import type { ServingRepository, UserHistory } from '../db/serving-repository.js';
import type { Catalogue, ItemFilter } from '../serving/catalogue.js';
import type { ServingIndex } from '../serving/index.js';
import type { ModelStore } from '../serving/model-store.js';
import { ResultCache } from '../serving/result-cache.js';
import { keyBytes, pageOf, type Recommendation } from './answer.js';
import { buildContext, type ContextSettings } from './context-builder.js';
import type { RequestContext } from './context.js';
import type { UnitVectorOf } from './diversity/diversity.js';
import { BadCursorError, CursorExpiredError, decodeCursor, encodeCursor, extendList, ListStore, type StoredList } from './paging.js';
import { rankList, type PipelineRuntime, type RankedList } from './run.js';
import { buildSources } from './sources/build.js';
import { rankUnseen, type UnseenCheck } from './unseen.js';
import type { LeaderboardBook } from './sources/leaderboards.js';
import type { ContentIndex } from '../serving/content-index.js';

export type { Recommendation, RecommendedItem } from './answer.js';
export { BadCursorError, CursorExpiredError } from './paging.js';

export interface RecommendOptions {
  limit: number;
  /** Items of the ranked list to pass over (ignored with a cursor). */
  offset?: number;
  /** A `nextCursor` of an earlier answer: the next page of the same list. */
  cursor?: string;
  excludeSeen: boolean;
  /** A specific model type instead of the serving one. */
  model?: string;
  filter?: ItemFilter;
  /** Name, per item, the user's items behind it and every source that proposed it. */
  explain?: boolean;
  /** One source alone, in its own order: what it contributes. */
  source?: string;
}

export interface RecommenderSettings extends ContextSettings {
  eventWeights: Readonly<Record<string, number>>;
  /** Most recent interactions read per user for exclusion and fold-in. */
  historyLimit: number;
  /** Ranked lists kept per (user, query) for new requests; 0 turns the cache off. */
  cacheEntries: number;
  /** Estimated bytes of cached lists at most. */
  cacheBytes: number;
  cacheTtlMs: number;
}

export class UnknownModelError extends Error {
  constructor(readonly model: string) {
    super(`no active version of model ${model}`);
  }
}
export class UnknownSourceError extends Error {}

/** The shallowest list computed for a page: a next page or two without recomputing (deeper pages extend it). */
const MIN_DEPTH = 20;

/**
 * Answers recommendation requests through the pipeline: the request's context from the user's
 * current interactions, the configured sources, ranker, rules and diversity, and a ranked list
 * kept for paging. New requests within RECOMMENDATION_CACHE_TTL_MS reuse a user's list until
 * their next interaction; cursors keep paging theirs for the pipeline's paging TTL.
 */
export class Recommender {
  /** Query → the id of the list that answers it (dropped on the user's next interaction). */
  private readonly keys: ResultCache<string>;
  readonly lists: ListStore;
  readonly runtime: PipelineRuntime;

  constructor(
    private readonly store: ModelStore,
    private readonly repo: ServingRepository,
    readonly book: LeaderboardBook,
    private readonly catalogue: Catalogue,
    readonly pipeline: PipelineConfig,
    private readonly settings: RecommenderSettings,
    content: ContentIndex | null = null,
    random: () => number = Math.random,
  ) {
    this.keys = new ResultCache(settings.cacheEntries, settings.cacheTtlMs, Date.now, { maxBytes: settings.cacheBytes / 16, sizeOf: keyBytes });
    this.lists = new ListStore(Math.max(settings.cacheEntries, 1), settings.cacheBytes, pipeline.paging.ttlSeconds * 1000);
    const facts = { categoriesOf: (id: string) => catalogue.categoriesOf(id), labelsOf: (id: string) => catalogue.labelsOf(id), createdAt: (id: string) => book.latest.byItem.get(id) };
    this.runtime = { config: pipeline, sources: buildSources(pipeline, book, content), facts, random };
  }

  /** The answer cache's figures for /metrics: list keys and stored lists together. */
  get cacheStats(): { hits: number; misses: number; size: number; bytes: number } {
    return { hits: this.keys.hits, misses: this.keys.misses, size: this.lists.size, bytes: this.keys.bytes + this.lists.bytes };
  }

  /** New interactions of these users: new requests must not reuse their lists (open cursors keep theirs). */
  interactionsChanged(userIds: readonly string[]): void {
    for (const u of userIds) this.keys.invalidateUser(u);
  }

  clearCache(): void {
    this.keys.clear();
  }

  index(model?: string): ServingIndex | null {
    const index = this.store.current(model);
    if (model && !index) throw new UnknownModelError(model);
    return index;
  }

  private checkSource(source: string | undefined): void {
    if (source !== undefined && !this.runtime.sources.has(source)) throw new UnknownSourceError(`no source named "${source}" (sources: ${[...this.runtime.sources.keys()].join(', ')})`);
  }

  private vectorOf(index: ServingIndex | null): UnitVectorOf {
    const unit = index?.itemUnit;
    const d = index?.dims ?? 0;
    return (i) => (unit && d > 0 ? unit.subarray(i * d, (i + 1) * d) : null);
  }

  private depthFor(offset: number, limit: number): number {
    return Math.min(this.pipeline.paging.maxDepth, Math.max(MIN_DEPTH, 2 * (offset + limit)));
  }

  private async contextFor(userId: string, options: RecommendOptions, index: ServingIndex | null): Promise<{ ctx: RequestContext; check: UnseenCheck | null }> {
    const user = await this.repo.userHistory(userId, this.settings.eventWeights, this.settings.historyLimit);
    const ctx = buildContext(index, this.catalogue, this.settings, { userId, user, excludeSeen: options.excludeSeen, filter: options.filter ?? {}, now: Date.now() });
    // Past the history bound, what the user has seen is asked of the database per candidate.
    const check: UnseenCheck | null =
      user && !user.complete ? { historyOf: (ids) => this.repo.historyOf(userId, this.settings.eventWeights, ids), excludeSeen: options.excludeSeen, dislikeThreshold: this.settings.dislikeThreshold } : null;
    return { ctx, check };
  }

  private pageFrom(stored: StoredList, ctx: Pick<RequestContext, 'index' | 'positivesDense'>, offset: number, options: RecommendOptions): Recommendation {
    const { list } = stored;
    const end = offset + options.limit;
    const more = end < list.items.length || this.tooShallow(list, end + 1);
    return pageOf(list, list.items.slice(offset, end), ctx, {
      explain: options.explain ?? false,
      sourceType: (name) => this.runtime.sources.get(name)?.config.type,
      vectorOf: this.vectorOf(ctx.index),
      nextCursor: more ? encodeCursor(stored.id, end) : null,
    });
  }

  async recommend(userId: string, options: RecommendOptions): Promise<Recommendation> {
    this.checkSource(options.source);
    if (options.cursor !== undefined) return this.nextPage(userId, options);
    const index = this.index(options.model);
    const offset = Math.min(options.offset ?? 0, this.pipeline.paging.maxDepth);
    const f = options.filter ?? {};
    const key = JSON.stringify([userId, options.excludeSeen, index?.modelName ?? null, index?.version ?? null, this.catalogue.version, this.book.computedAt, f.categories ?? [], f.exclude ?? [], f.includeHidden ?? false, options.source ?? null]);
    const cachedId = this.keys.get(userId, key);
    const cached = cachedId ? this.lists.get(cachedId) : undefined;
    // A cached list answers without reading the database, unless the page needs explaining.
    if (cached && !this.tooShallow(cached.list, offset + options.limit)) {
      return this.pageFrom(cached, options.explain ? (await this.contextFor(userId, options, index)).ctx : { index, positivesDense: [] }, offset, options);
    }
    const { ctx, check } = await this.contextFor(userId, options, index);
    const depth = this.depthFor(offset, options.limit);
    const stored = this.store_(userId, index, await rankUnseen(() => rankList(this.runtime, ctx, depth, this.vectorOf(index), options.source), ctx, check));
    this.keys.set(userId, key, stored.id);
    return this.pageFrom(stored, ctx, offset, options);
  }

  /** Whether `end` lies past what was ranked while the sources could still give more. */
  private tooShallow(list: RankedList, end: number): boolean {
    return end > list.items.length && list.items.length >= list.depth && list.depth < this.pipeline.paging.maxDepth;
  }

  private store_(userId: string, index: ServingIndex | null, list: RankedList, id = this.lists.newId()): StoredList {
    const stored = { id, userId, list, model: index?.modelName ?? null, modelVersion: index?.version ?? null };
    this.lists.put(stored);
    return stored;
  }

  /** The page a cursor names, from the same list (extended, served prefix kept, when it goes deeper than was ranked). */
  private async nextPage(userId: string, options: RecommendOptions): Promise<Recommendation> {
    const { id, offset } = decodeCursor(options.cursor!);
    let stored = this.lists.get(id);
    if (!stored) throw new CursorExpiredError('this list expired or was evicted; ask again without a cursor');
    if (stored.userId !== userId) throw new BadCursorError("belongs to another user's list");
    const index = stored.model ? this.store.current(stored.model) : null;
    const { ctx, check } = await this.contextFor(userId, options, index && index.version === stored.modelVersion ? index : null);
    const { list } = stored;
    if (this.tooShallow(list, offset + options.limit) && ctx.index) {
      const depth = Math.min(this.pipeline.paging.maxDepth, Math.max(2 * list.depth, offset + options.limit));
      const deeper = await rankUnseen(() => rankList(this.runtime, ctx, depth, this.vectorOf(ctx.index), options.source), ctx, check);
      stored = this.store_(userId, ctx.index, extendList(list, deeper, offset), stored.id);
    }
    return this.pageFrom(stored, ctx, offset, options);
  }

  /**
   * An anonymous session (nothing stored, nothing cached): the items someone interacted with,
   * optionally rated, folded into the model like a user new since the snapshot; its own items
   * and dislikes are left out of the answer.
   */
  session(items: readonly string[], ratings: readonly number[] | undefined, options: Omit<RecommendOptions, 'excludeSeen' | 'cursor'>): Recommendation {
    this.checkSource(options.source);
    const index = this.index(options.model);
    const user: UserHistory = {
      createdAt: Number.POSITIVE_INFINITY,
      items: items.slice(0, this.settings.historyLimit).map((item, k) => ({ item, rating: ratings?.[k] ?? null, weight: ratings ? 0 : 1, disliked: false })),
      complete: true,
      labels: {},
    };
    const ctx = buildContext(index, this.catalogue, this.settings, { userId: null, user, excludeSeen: true, filter: options.filter ?? {}, now: Date.now() });
    const offset = options.offset ?? 0;
    const list = rankList(this.runtime, ctx, Math.min(this.pipeline.paging.maxDepth, offset + options.limit), this.vectorOf(index), options.source);
    return pageOf(list, list.items.slice(offset, offset + options.limit), ctx, { explain: options.explain ?? false, sourceType: (n) => this.runtime.sources.get(n)?.config.type, vectorOf: this.vectorOf(index), nextCursor: null });
  }
}
