import type { ModelVersion, PromotionPolicy } from '../db/models-repository.js';

/** The candidate as promotion sees it: its model type, validation HR@10 and how it was validated. */
export interface Candidate {
  model: string;
  validHr10: number;
  manifest: Record<string, unknown>;
}

export interface PromotionRules {
  /** PROMOTE_TOLERANCE, in validation HR@10. */
  tolerance: number;
  /** Activate and serve whatever the validation says. */
  force: boolean;
}

/** Non-personalised baselines: they never displace a personalised model unless strictly better. */
export const BASELINES: ReadonlySet<string> = new Set(['pop']);

/** How a version was validated (split kind and seed); versions validated differently are not compared. */
export function validationOf(manifest: Record<string, unknown>): string {
  const data = ((manifest.training as Record<string, unknown> | undefined)?.data ?? {}) as { split?: string; seed?: number };
  return `${data.split ?? 'loo'}/${data.seed ?? 42}`;
}

/**
 * Within a model type: a retrain replaces the type's active version when it validates at least
 * as well within the tolerance — it has seen fresher data, so near-equal is good enough.
 */
export function replacesActive(candidate: Candidate, active: ModelVersion | null, rules: PromotionRules): boolean {
  return rules.force || !active || candidate.validHr10 >= active.validHr10 - rules.tolerance;
}

/**
 * Across model types (SERVING_MODEL=auto): another type takes over serving only when its
 * validation HR@10, on the same split and seed, beats the serving version's by the tolerance
 * (a baseline must beat it too: it can never win on a tie). Returns the reason either way.
 */
export function takesOverServing(candidate: Candidate, serving: ModelVersion | null, rules: PromotionRules): { serve: boolean; reason: string } {
  if (rules.force) return { serve: true, reason: 'forced' };
  if (!serving) return { serve: true, reason: 'nothing was serving' };
  if (serving.model === candidate.model) return { serve: true, reason: 'a new version of the serving model' };
  if (validationOf(candidate.manifest) !== validationOf(serving.manifest)) {
    return { serve: false, reason: `validated differently (${validationOf(candidate.manifest)} vs ${validationOf(serving.manifest)}) from the serving ${serving.model}` };
  }
  const margin = BASELINES.has(candidate.model) && !BASELINES.has(serving.model) ? Math.max(rules.tolerance, Number.EPSILON) : rules.tolerance;
  const serve = candidate.validHr10 >= serving.validHr10 + margin;
  const verdict = serve ? 'beats' : 'does not beat';
  const gap = candidate.validHr10 - serving.validHr10;
  const needed = margin > 0 && margin < 1e-4 ? 'more than 0' : `at least ${margin.toFixed(4)}`;
  return { serve, reason: `valid HR@10 ${candidate.validHr10.toFixed(4)} ${verdict} the serving ${serving.model}'s ${serving.validHr10.toFixed(4)}: a margin of ${gap >= 0 ? '+' : ''}${gap.toFixed(4)} where ${needed} is needed` };
}

/** The rules as the repository applies them inside a registration. */
export function promotionPolicy(rules: PromotionRules): PromotionPolicy {
  return { activates: (candidate, active) => replacesActive(candidate, active, rules), serves: (candidate, serving) => takesOverServing(candidate, serving, rules) };
}

/**
 * The model type `auto` serves when chosen afresh (at start or when an admin returns to auto): the
 * best validation HR@10 among the active versions of the most common validation; ties go to a
 * personalised model, then to the most recently activated.
 */
export function bestForAuto(active: readonly ModelVersion[]): ModelVersion | null {
  if (active.length === 0) return null;
  const counts = new Map<string, number>();
  for (const v of active) counts.set(validationOf(v.manifest), (counts.get(validationOf(v.manifest)) ?? 0) + 1);
  const usual = [...counts].sort((a, b) => b[1] - a[1])[0][0];
  return [...active]
    .filter((v) => validationOf(v.manifest) === usual)
    .sort((a, b) => b.validHr10 - a.validHr10 || Number(BASELINES.has(a.model)) - Number(BASELINES.has(b.model)) || (b.activatedAt ?? 0) - (a.activatedAt ?? 0))[0];
}
