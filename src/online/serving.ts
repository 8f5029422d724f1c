import crypto from 'node:crypto';
import type { ImpressionRoute, ShownItem } from '../db/online-repository.js';
import { decodeCursor, encodeCursor } from '../pipeline/paging.js';
import { UnknownModelError, type Recommendation, type RecommendOptions, type Recommender } from '../pipeline/recommender.js';
import type { ModelStore } from '../serving/model-store.js';
import { explore } from './explore.js';
import { variantFor, type Experiment, type ExperimentBook, type Variant } from './experiments.js';
import { teamDraft } from './interleave.js';
import type { ImpressionLog } from './log.js';

/** What a list was, for its impression: the model behind it and its items in order. */
export interface ShownList {
  model: string;
  modelVersion: string | null;
  items: readonly { itemId: string; source: string }[];
}

interface Extras {
  experiment?: Experiment;
  variant?: string;
  teams?: readonly (string | null)[];
  propensities?: readonly number[];
  exploration?: number;
  poolSize?: number;
}

export interface OnlineAnswer extends Recommendation {
  recommendationId: string;
  /** The experiment this answer was part of, and the variant (`interleaved` for a mixed list). */
  experiment: { id: string; variant: string } | null;
}

export interface ExplorationSettings {
  share: number;
  pool: number;
}

/**
 * Recommendation answers as the online layer serves them: each gets a recommendationId and its
 * impression is logged; the running experiment decides, per user, which variant answers (A/B) or
 * mixes two variants' lists (team-draft interleaving); with an exploration share, a few slots are
 * drawn at random with known propensities. A request that names its model, source, offset or
 * cursor asks for something specific: it is served as asked, outside the experiment and exploration.
 */
export class OnlineServing {
  constructor(
    private readonly recommender: Recommender,
    private readonly store: ModelStore,
    private readonly log: ImpressionLog | null,
    private readonly book: ExperimentBook,
    private readonly exploration: ExplorationSettings,
    private readonly random: () => number = Math.random,
  ) {}

  /** Counts each answer shown (metrics). */
  onShown: ((route: ImpressionRoute, variant: string | null) => void) | null = null;

  async recommendations(userId: string, options: RecommendOptions): Promise<OnlineAnswer> {
    const specific = options.model !== undefined || options.source !== undefined || options.cursor !== undefined || (options.offset ?? 0) > 0;
    const experiment = specific ? null : this.book.running;
    if (experiment?.mode === 'interleave') return this.interleaved(userId, options, experiment);
    if (experiment) {
      const variant = variantFor(experiment, userId);
      const answer = await this.variantAnswer(userId, options, variant);
      if (answer) return this.shown('recommendations', userId, answer, { experiment, variant: variant.name });
    }
    if (!specific && this.exploration.share > 0) return this.explored(userId, options);
    return this.shown('recommendations', userId, await this.recommender.recommend(userId, options), {});
  }

  /** A variant's answer; null when its model has nothing active (the user is then served as if no experiment ran). */
  private async variantAnswer(userId: string, options: RecommendOptions, v: Variant): Promise<Recommendation | null> {
    try {
      return await this.recommender.recommend(userId, { ...options, ...(v.model ? { model: v.model } : {}), ...(v.source ? { source: v.source } : {}) });
    } catch (err) {
      if (err instanceof UnknownModelError) return null;
      throw err;
    }
  }

  private async interleaved(userId: string, options: RecommendOptions, e: Experiment): Promise<OnlineAnswer> {
    const [va, vb] = e.spec.variants;
    const [a, b] = await Promise.all([this.variantAnswer(userId, options, va), this.variantAnswer(userId, options, vb)]);
    if (!a || !b) return this.shown('recommendations', userId, a ?? b ?? (await this.recommender.recommend(userId, options)), {});
    const drafted = teamDraft(a.items, b.items, options.limit, (x) => x.itemId, () => this.random() < 0.5);
    // Pages after an interleaved first page continue the first variant's list.
    const answer = { ...a, items: drafted.map((d) => d.item), nextCursor: a.nextCursor };
    return this.shown('recommendations', userId, answer, { experiment: e, variant: 'interleaved', teams: drafted.map((d) => (d.team === 0 ? va.name : vb.name)) });
  }

  private async explored(userId: string, options: RecommendOptions): Promise<OnlineAnswer> {
    const deep = await this.recommender.recommend(userId, { ...options, limit: options.limit + this.exploration.pool });
    const page = deep.items.slice(0, options.limit);
    const drawn = explore(page, deep.items.slice(options.limit), this.exploration.share, this.random);
    const items = drawn.items.map((x, k) => (drawn.explored[k] ? { ...x, source: 'explore' } : x));
    // The next page starts right after this page in the same ranked list.
    const nextCursor = nextAfter(deep.nextCursor, options.limit);
    const answer = { ...deep, items, nextCursor };
    return this.shown('recommendations', userId, answer, { propensities: drawn.propensities, exploration: drawn.poolSize > 0 ? this.exploration.share : 0, poolSize: drawn.poolSize });
  }

  /** Logs an answer's impression and gives it its recommendationId. */
  shown<T extends ShownList>(route: ImpressionRoute, userId: string | null, answer: T, extras: Extras): T & { recommendationId: string; experiment: { id: string; variant: string } | null } {
    const id = crypto.randomUUID();
    const experiment = extras.experiment && extras.variant ? { id: extras.experiment.id, variant: extras.variant } : null;
    this.onShown?.(route, experiment?.variant ?? null);
    if (this.log) {
      this.log.impression({
        id,
        route,
        userId,
        model: answer.model,
        modelVersion: answer.modelVersion,
        experimentId: experiment?.id ?? null,
        variant: experiment?.variant ?? null,
        exploration: extras.exploration ?? 0,
        poolSize: extras.poolSize ?? 0,
        createdAt: Date.now(),
        items: this.shownItems(answer, extras),
      });
    }
    return { ...answer, recommendationId: id, experiment };
  }

  private shownItems(answer: ShownList, extras: Extras): ShownItem[] {
    const index = this.store.current(answer.model);
    const known = index && index.version === answer.modelVersion ? index : null;
    const users = known ? known.userIds.length + 1 : 0;
    return answer.items.map((x, k) => {
      const i = known?.itemIndex.get(x.itemId);
      const novelty = known && i !== undefined ? -Math.log2(Math.min(1, ((known.popularity[i] ?? 0) + 1) / users)) : null;
      return { itemId: x.itemId, source: x.source, team: extras.teams?.[k] ?? null, propensity: extras.propensities?.[k] ?? 1, novelty };
    });
  }
}

/** The cursor of the page starting at `offset` in the list an answer's cursor belongs to. */
function nextAfter(cursor: string | null, offset: number): string | null {
  if (!cursor) return null;
  return encodeCursor(decodeCursor(cursor).id, offset);
}
