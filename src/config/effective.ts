import type { Config, SettingOrigin } from '../config.js';
import type { FeaturesConfig } from './features.js';
import type { PipelineConfig } from './pipeline.js';
import { SETTINGS, shown } from './settings.js';

/** One setting as the operator reads it: its value (secrets redacted) and where it came from. */
export interface EffectiveSetting {
  value: unknown;
  env: string;
  origin: SettingOrigin;
}

export interface EffectiveConfig {
  file: string | null;
  settings: Record<string, Record<string, EffectiveSetting>>;
  pipeline: PipelineConfig;
  features: FeaturesConfig;
}

/** `feedback.eventTypes` as it is written in the file: a weight, `negative` or `read` per type. */
function eventTypesShown(config: Config): Record<string, number | string> {
  return Object.fromEntries(Object.entries(config.eventTypes).map(([name, t]) => [name, t.polarity === 'positive' ? t.weight : t.polarity]));
}

/** Pins' dates back to ISO strings (the schema turns them into epoch ms). */
function pipelineShown(p: PipelineConfig): PipelineConfig {
  const rules = p.rules.map((r) => (r.type === 'pin' ? { ...r, ...(r.from !== undefined ? { from: new Date(r.from).toISOString() } : {}), ...(r.until !== undefined ? { until: new Date(r.until).toISOString() } : {}) } : r));
  return { ...p, rules: rules as PipelineConfig['rules'] };
}

/**
 * The configuration in effect, by the file's sections, every value with the variable that
 * overrides it and where it came from; secrets (the admin token, passwords in URLs) redacted.
 * What `recflow config check` prints and `GET /admin/config` returns.
 */
export function effectiveConfig(config: Config): EffectiveConfig {
  const settings: EffectiveConfig['settings'] = {};
  for (const s of SETTINGS) {
    const [section, key] = s.path.split('.');
    const raw = s.field === 'eventTypes' ? eventTypesShown(config) : s.field === 'eventWeights' ? undefined : fieldOf(config, s.field);
    if (s.field === 'eventWeights') continue; // folded into eventTypes, which shows every weight
    (settings[section] ??= {})[key] = { value: shown(s, raw) ?? null, env: s.env, origin: config.origins[s.env] ?? 'default' };
  }
  return { file: config.configFile, settings, pipeline: pipelineShown(config.pipeline), features: config.features };
}

/** The effective configuration as a recflow.yaml would write it (values only), for `recflow config check`. */
export function asFileSections(e: EffectiveConfig): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [section, keys] of Object.entries(e.settings)) out[section] = Object.fromEntries(Object.entries(keys).filter(([, s]) => s.value !== null).map(([k, s]) => [k, s.value]));
  out.pipeline = e.pipeline;
  out.features = e.features;
  return out;
}

/** A Config field by its SETTINGS name; `online.ctrK` reads a nested section. */
function fieldOf(config: Config, field: string): unknown {
  return field.split('.').reduce<unknown>((v, key) => (v as Record<string, unknown> | undefined)?.[key], config);
}
