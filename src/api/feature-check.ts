import type { FeaturesConfig } from '../config/features.js';
import { featureProblem, type Side } from '../features/encode.js';
import { AppError } from '../errors.js';

/**
 * Refuses labels the content-feature schema cannot take (a numeric label that is not a number,
 * more features than `features.maxPerEntity`), before anything is written: a 400 naming the
 * label, or the labels as a whole. `at` is the body path of the entity (`body`, `body.items.3`).
 */
export function checkFeatures(config: FeaturesConfig, side: Side, categories: readonly string[], labels: Readonly<Record<string, string>>, at: string): void {
  const problem = featureProblem(config, side, categories, labels);
  if (!problem) return;
  const path = problem.label ? `${at}.labels.${problem.label}` : `${at}.labels`;
  throw new AppError(400, 'validation_failed', 'Invalid request', [{ path, message: problem.message }]);
}
