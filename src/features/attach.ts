import type { FeaturesConfig } from '../config/features.js';
import type { Interactions } from '../data/interactions.js';
import { featureMatrix } from './matrix.js';

/** What the catalogue says about items and users, by external id. */
export interface CatalogueFacts {
  categoriesOf(itemId: string): readonly string[];
  labelsOf(itemId: string): Readonly<Record<string, string>>;
  userLabelsOf(userId: string): Readonly<Record<string, string>>;
}

/** The training data with its items' and users' content features under the schema (what the hybrid model reads). */
export function withContentFeatures(data: Interactions, config: FeaturesConfig, facts: CatalogueFacts): Interactions {
  const itemFeatures = featureMatrix(config, 'items', data.itemIds, (id) => ({ categories: facts.categoriesOf(id), labels: facts.labelsOf(id) }));
  const userFeatures = featureMatrix(config, 'users', data.userIds, (id) => ({ categories: [], labels: facts.userLabelsOf(id) }));
  return { ...data, itemFeatures, userFeatures };
}
