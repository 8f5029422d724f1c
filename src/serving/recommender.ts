import type { ServingRepository, UserHistory, UserItem } from '../db/serving-repository.js';
import { DmfModel } from '../models/dmf.js';
import { EinmfModel } from '../models/einmf.js';
import { IalsModel } from '../models/ials.js';
import { isItemBased } from '../models/model.js';
import { explain, type Reason } from './explain.js';
import { foldInUser } from './fold-in.js';
import type { ServingIndex } from './index.js';
import type { Catalogue, ItemFilter } from './catalogue.js';
import type { ModelStore } from './model-store.js';
import type { PopularityRanking } from './popularity.js';
import { ResultCache } from './result-cache.js';
import { topN, type Scored } from './top-n.js';

export interface RecommendOptions {
  limit: number;
  excludeSeen: boolean;
  /** A specific model type instead of the default one. */
  model?: string;
  /** Catalogue controls: categories (any of), excluded ids, hidden items (admins only). */
  filter?: ItemFilter;
  /** Name, per item, the user's own interactions that contributed most. */
  explain?: boolean;
}

export interface RecommendedItem {
  itemId: string;
  score: number;
  /** With `explain`: the user's own items behind this one, strongest first. */
  because?: Reason[];
}

export interface Recommendation {
  model: string;
  modelVersion: string | null;
  source: 'model' | 'fallback';
  /** How the model answered: a trained user vector, a fold-in of a user new since the snapshot. */
  method: 'trained' | 'fold-in' | 'popularity';
  items: RecommendedItem[];
}

export interface RecommenderSettings {
  ratingMax: number;
  dislikeThreshold: number;
  eventWeights: Readonly<Record<string, number>>;
  /** Most recent interactions read per user for exclusion and fold-in. */
  historyLimit: number;
  /** Answers kept per (user, query); 0 turns the cache off. */
  cacheEntries: number;
  /** Estimated bytes of cached answers at most. */
  cacheBytes: number;
  cacheTtlMs: number;
}

export class UnknownModelError extends Error {
  constructor(readonly model: string) {
    super(`no active version of model ${model}`);
  }
}

export class UnknownItemError extends Error {}
export class UnknownUserError extends Error {}
/** The model cannot answer this kind of question (e.g. similar users without user vectors). */
export class UnsupportedByModelError extends Error {}

/**
 * Answers recommendation and similar-item requests from the active model in memory, with the
 * user's current interactions from the database: seen and disliked items are excluded before
 * top-N selection; users new since the snapshot are folded in; everyone else gets popularity.
 */
export class Recommender {
  readonly cache: ResultCache<Recommendation>;

  constructor(
    private readonly store: ModelStore,
    private readonly repo: ServingRepository,
    private readonly popularity: PopularityRanking,
    private readonly catalogue: Catalogue,
    private readonly settings: RecommenderSettings,
  ) {
    this.cache = new ResultCache(settings.cacheEntries, settings.cacheTtlMs, Date.now, { maxBytes: settings.cacheBytes, sizeOf: answerBytes });
  }

  /** New interactions of these users: their cached answers are stale. */
  interactionsChanged(userIds: readonly string[]): void {
    for (const u of userIds) this.cache.invalidateUser(u);
  }

  private index(model?: string): ServingIndex | null {
    const index = this.store.current(model);
    if (model && !index) throw new UnknownModelError(model);
    return index;
  }

  private isDislike(h: UserItem): boolean {
    return h.disliked || (h.rating !== null && h.rating <= this.settings.dislikeThreshold);
  }

  async recommend(userId: string, options: RecommendOptions): Promise<Recommendation> {
    const index = this.index(options.model);
    const f = options.filter ?? {};
    const key = JSON.stringify([userId, options.limit, options.excludeSeen, index?.modelName ?? null, index?.version ?? null, this.catalogue.version, this.popularity.computedAt, f.categories ?? [], f.exclude ?? [], f.includeHidden ?? false, options.explain ?? false]);
    const cached = this.cache.get(userId, key);
    if (cached) return cached;
    const user = await this.repo.userHistory(userId, this.settings.eventWeights, this.settings.historyLimit);
    const answer = this.compute(userId, user, index, options);
    this.cache.set(userId, key, answer);
    return answer;
  }

  /**
   * An anonymous session (nothing stored, nothing cached): the items someone interacted with,
   * optionally rated, folded into the model like a user new since the snapshot; its own items
   * and dislikes are left out of the answer.
   */
  session(items: readonly string[], ratings: readonly number[] | undefined, options: Omit<RecommendOptions, 'excludeSeen'>): Recommendation {
    const index = this.index(options.model);
    const history: UserHistory = {
      createdAt: Number.POSITIVE_INFINITY,
      items: items.slice(0, this.settings.historyLimit).map((item, k) => ({ item, rating: ratings?.[k] ?? null, weight: ratings ? 0 : 1, disliked: false })),
    };
    return this.compute('', history, index, { ...options, excludeSeen: true });
  }

  /** Users with the closest vectors in the serving (or named) model; only users it was trained on. */
  similarUsers(userId: string, limit: number, model?: string): { model: string; modelVersion: string; users: { userId: string; score: number }[] } {
    const index = this.index(model);
    const u = index?.userIndex.get(userId);
    if (!index || u === undefined) throw new UnknownUserError(userId);
    const found = index.similarUsers(u, limit);
    if (!found) throw new UnsupportedByModelError(`model ${index.modelName} has no user vectors to compare; ask a vector model with ?model= (e.g. ials, bpr, gmf)`);
    return { model: index.modelName, modelVersion: index.version, users: found.map((s) => ({ userId: index.userIds[s.item], score: s.score })) };
  }

  /** The most popular items (positive feedback), filtered like recommendations. */
  popular(limit: number, filter: ItemFilter = {}): { computedAt: number; items: RecommendedItem[] } {
    return { computedAt: this.popularity.computedAt, items: this.popularity.top(limit, this.catalogue.skipperByExternalId(filter)) };
  }

  /** The newest items of the catalogue, filtered like recommendations. */
  latest(limit: number, filter: ItemFilter = {}): { itemId: string; createdAt: number }[] {
    return this.popularity.latest(limit, this.catalogue.skipperByExternalId(filter));
  }

  private compute(userId: string, user: UserHistory | null, index: ServingIndex | null, options: RecommendOptions): Recommendation {
    const history = user?.items ?? [];
    const hidden = new Set(history.filter((h) => options.excludeSeen || this.isDislike(h)).map((h) => h.item));
    const filter = options.filter ?? {};
    const catalogueSkipExt = this.catalogue.skipperByExternalId(filter);
    const excludeExt = (id: string): boolean => hidden.has(id) || catalogueSkipExt(id);
    if (index) {
      const hiddenDense = new Set<number>();
      for (const id of hidden) {
        const i = index.itemIndex.get(id);
        if (i !== undefined) hiddenDense.add(i);
      }
      const catalogueSkip = this.catalogue.skipper(index, filter);
      const skip = (i: number): boolean => catalogueSkip(i) || hiddenDense.has(i);
      const answer = this.fromModel(index, userId, user, options.limit, skip);
      if (answer) {
        const items = this.named(index, answer.items);
        if (options.explain) this.attachReasons(index, history, answer.items, items);
        return { model: index.modelName, modelVersion: index.version, source: 'model', method: answer.method, items };
      }
    }
    return {
      model: 'popularity',
      modelVersion: index?.version ?? null,
      source: 'fallback',
      method: 'popularity',
      items: this.popularity.top(options.limit, excludeExt),
    };
  }

  private attachReasons(index: ServingIndex, history: readonly UserItem[], scored: Scored[], items: RecommendedItem[]): void {
    const positives = history.filter((h) => !this.isDislike(h)).map((h) => index.itemIndex.get(h.item)).filter((i): i is number => i !== undefined);
    const reasons = explain(index, positives, scored.map((s) => s.item));
    items.forEach((item, k) => (item.because = reasons[k]));
  }

  private named(index: ServingIndex, items: Scored[]): RecommendedItem[] {
    return items.map((s) => ({ itemId: index.itemIds[s.item], score: s.score }));
  }

  private fromModel(index: ServingIndex, userId: string, user: UserHistory | null, limit: number, skip: (i: number) => boolean): { method: 'trained' | 'fold-in'; items: Scored[] } | null {
    // ItemPop ranks everyone alike, by its snapshot's popularity: it answers as the model it is.
    if (index.kind === 'popularity') return { method: 'trained', items: topN(index.popularity, limit, skip) };
    if (!user) return null;
    // The snapshot's vector for this id is the user's only if their record predates its data: an
    // erased user's vector stays in older snapshots, and must not answer for them (or for a
    // new user of the same id) — they are folded in from what the database holds now.
    const u = user.createdAt <= index.dataUntil ? index.userIndex.get(userId) : undefined;
    if (u !== undefined) return { method: 'trained', items: index.recommend(u, limit, skip) };
    const positives = user.items.filter((h) => !this.isDislike(h) && index.itemIndex.has(h.item));
    if (positives.length === 0) return null;
    const folded = this.foldIn(index, positives);
    if (!folded) return null;
    return { method: 'fold-in', items: 'vector' in folded ? index.topForVector(folded.vector, limit, skip) : topN(folded.scores, limit, skip) };
  }

  /** A user the snapshot does not know, from their current interactions: a user vector, or scores of every item. */
  private foldIn(index: ServingIndex, positives: UserItem[]): { vector: Float32Array } | { scores: Float32Array } | null {
    const items = Int32Array.from(positives, (h) => index.itemIndex.get(h.item)!);
    const { ratingMax } = this.settings;
    const strength = Float32Array.from(positives, (h) => (h.rating !== null ? h.rating : Math.min(h.weight, ratingMax)) / ratingMax);
    const model = index.model;
    if (model instanceof DmfModel) {
      const order = sortedOrder(items);
      return { vector: model.userVectorFor(Int32Array.from(order, (k) => items[k]), Float32Array.from(order, (k) => strength[k] * ratingMax)) };
    }
    if (model instanceof EinmfModel) {
      const p = model.userVectorFor(items, Float32Array.from(positives, (h) => h.rating ?? Number.NaN), ratingMax);
      for (let f = 0; f < p.length; f++) p[f] *= model.h.data[f];
      return { vector: p };
    }
    if (isItemBased(model)) return { scores: model.scoresFor(items) };
    if (!index.itemGram) return null;
    if (model instanceof IalsModel) return { vector: model.userVectorFor(items, index.itemGram) };
    return { vector: foldInUser(index.itemGram, index.itemVectors, index.dims, items, strength) };
  }

  async similar(itemId: string, limit: number, options: { model?: string; filter?: ItemFilter } = {}): Promise<Recommendation> {
    const index = this.index(options.model);
    // The index answers for every item it knows; only items newer than the snapshot need the database.
    if (!index?.itemIndex.has(itemId) && !(await this.repo.itemExists(itemId))) throw new UnknownItemError(itemId);
    const filter = options.filter ?? {};
    const catalogueSkipExt = this.catalogue.skipperByExternalId(filter);
    const excludeExt = (id: string): boolean => id === itemId || catalogueSkipExt(id);
    const i = index?.itemIndex.get(itemId);
    if (index && i !== undefined) {
      const catalogueSkip = this.catalogue.skipper(index, filter);
      const items = index.similarTo(i, limit, (j) => j === i || catalogueSkip(j));
      if (items.length > 0 || index.kind !== 'popularity') {
        return { model: index.modelName, modelVersion: index.version, source: 'model', method: 'trained', items: this.named(index, items) };
      }
    }
    return { model: 'popularity', modelVersion: index?.version ?? null, source: 'fallback', method: 'popularity', items: this.popularity.top(limit, excludeExt) };
  }
}

/** Estimated heap bytes of an answer: ~100 per item object plus its id string, ~300 for the rest. */
function answerBytes(a: Recommendation): number {
  let bytes = 300 + 2 * (a.model.length + (a.modelVersion?.length ?? 0));
  for (const it of a.items) bytes += 100 + 2 * it.itemId.length;
  return bytes;
}

function sortedOrder(items: Int32Array): number[] {
  return Array.from(items.keys()).sort((a, b) => items[a] - items[b]);
}
