import { featuresSchema, type FeaturesConfig } from './features.js';
import type { ConfigFile } from './file.js';
import { pipelineSchema, type LeaderboardConfig, type PipelineConfig } from './pipeline.js';
import { PIPELINE_VARIABLES } from './settings.js';

type Fail = (at: string, message: string) => never;

/** `POPULARITY_WINDOW_DAYS=30`, `POPULARITY_HALF_LIFE_DAYS=none`: the popular leaderboard's window and decay. */
function popularityOverride(variable: keyof typeof PIPELINE_VARIABLES, raw: string, fail: Fail): number | null {
  if (variable === 'POPULARITY_HALF_LIFE_DAYS' && raw === 'none') return null;
  const n = Number(raw);
  const ok = variable === 'POPULARITY_WINDOW_DAYS' ? Number.isFinite(n) && n >= 0 && n <= 36_500 : Number.isFinite(n) && n > 0 && n <= 36_500;
  if (!ok) return fail(variable, variable === 'POPULARITY_WINDOW_DAYS' ? 'must be a number of days in [0, 36500] (0 = all time)' : 'must be a positive number of days, or none');
  return n;
}

/**
 * The pipeline: the file's `pipeline` section over the built-in defaults, validated, then the
 * environment's overrides of the popular leaderboard; every leaderboard's feedback must name
 * `rating` or a declared event type.
 */
export function pipelineFrom(file: ConfigFile | null, env: Record<string, string>, eventTypes: readonly string[], fail: Fail): PipelineConfig {
  const parsed = pipelineSchema.safeParse(file?.pipeline ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const at = ['pipeline', ...issue.path.map(String)].join('.');
    return fail(file ? `${file.path}: ${at}` : at, issue.message);
  }
  const pipeline = parsed.data;
  const popular = pipeline.sources[pipeline.popular] as LeaderboardConfig;
  for (const variable of Object.keys(PIPELINE_VARIABLES) as (keyof typeof PIPELINE_VARIABLES)[]) {
    if (env[variable] === undefined) continue;
    const value = popularityOverride(variable, env[variable], fail);
    if (variable === 'POPULARITY_WINDOW_DAYS') popular.windowDays = value ?? 0;
    else popular.halfLifeDays = value;
  }
  const known = new Set(['rating', ...eventTypes]);
  for (const [name, source] of Object.entries(pipeline.sources)) {
    if (source.type !== 'leaderboard') continue;
    for (const key of Object.keys(source.feedback ?? {})) {
      if (!known.has(key)) fail(`${file?.path ?? 'pipeline'}: pipeline.sources.${name}.feedback.${key}`, `is neither rating nor a declared event type (${eventTypes.join(', ')})`);
    }
  }
  return pipeline;
}

/** The file's `features` section (the content-feature schema) over the defaults. */
export function featuresFrom(file: ConfigFile | null, fail: Fail): FeaturesConfig {
  const parsed = featuresSchema.safeParse(file?.features ?? {});
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const at = ['features', ...issue.path.map(String)].join('.');
  return fail(file ? `${file.path}: ${at}` : at, issue.message);
}
