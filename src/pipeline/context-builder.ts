import type { UserHistory, UserItem } from '../db/serving-repository.js';
import type { Catalogue, ItemFilter } from '../serving/catalogue.js';
import type { ServingIndex } from '../serving/index.js';
import { userScoring } from '../serving/user-scoring.js';
import type { RequestContext } from './context.js';
import type { FeaturesConfig } from '../config/features.js';
import { featuresOf, type Feature } from '../features/encode.js';

export interface ContextSettings {
  ratingMax: number;
  dislikeThreshold: number;
  /** The content-feature schema: a hybrid model scores a labelled user without history from it. */
  features?: FeaturesConfig;
}

/** A user's labels as content features under the schema (none without one, or when a label does not fit it). */
function labelFeatures(settings: ContextSettings, labels: Readonly<Record<string, string>>): Feature[] {
  if (!settings.features || Object.keys(labels).length === 0) return [];
  try {
    return featuresOf(settings.features, 'users', [], labels);
  } catch {
    return [];
  }
}

export const isDislike = (h: UserItem, dislikeThreshold: number): boolean => h.disliked || (h.rating !== null && h.rating <= dislikeThreshold);

/**
 * The request's context from what the database holds for the user now (at most HISTORY_LIMIT
 * interactions): seen items are hidden unless asked otherwise, dislikes always; the model scores
 * the user by their trained vector only when their record predates the snapshot's data.
 */
export function buildContext(
  index: ServingIndex | null,
  catalogue: Catalogue,
  settings: ContextSettings,
  request: { userId: string | null; user: UserHistory | null; excludeSeen: boolean; filter: ItemFilter; now: number },
): RequestContext {
  const history = request.user?.items ?? [];
  const hidden = new Set(history.filter((h) => request.excludeSeen || isDislike(h, settings.dislikeThreshold)).map((h) => h.item));
  const catalogueSkip = catalogue.skipperByExternalId(request.filter);
  const skip = (id: string): boolean => hidden.has(id) || catalogueSkip(id);
  const positives = history.filter((h) => !isDislike(h, settings.dislikeThreshold));
  let skipDense: (i: number) => boolean = () => true;
  let seenDense: (i: number) => boolean = () => false;
  let positivesDense: number[] = [];
  const hiddenDense = new Set<number>();
  const hide = (ids: Iterable<string>): void => {
    for (const id of ids) {
      hidden.add(id);
      const i = index?.itemIndex.get(id);
      if (i !== undefined) hiddenDense.add(i);
    }
  };
  if (index) {
    hide([...hidden]);
    const denseSkip = catalogue.skipper(index, request.filter);
    skipDense = (i) => denseSkip(i) || hiddenDense.has(i);
    seenDense = (i) => hiddenDense.has(i);
    positivesDense = positives.map((h) => index.itemIndex.get(h.item)).filter((i): i is number => i !== undefined);
  }
  const user = request.user;
  const scoring =
    index && (user || index.kind === 'popularity')
      ? userScoring(index, { userId: request.userId ?? '', trusted: user !== null && request.userId !== null && user.createdAt <= index.dataUntil, positives, ratingMax: settings.ratingMax, labelFeatures: labelFeatures(settings, user?.labels ?? {}) })
      : null;
  return { userId: request.userId, index, scoring, positives, positivesDense, userLabels: user?.labels ?? {}, skip, skipDense, seenDense, filter: request.filter, now: request.now, hide };
}
