import type { FeaturesConfig, LabelSpec } from '../config/features.js';

/** One content feature of an item or user: its name (the vocabulary's key) and its weight. */
export interface Feature {
  name: string;
  weight: number;
}

export type Side = 'items' | 'users';

/** A label the schema cannot take (a numeric label that is not a number): names the label. */
export class FeatureError extends Error {
  constructor(
    readonly label: string,
    message: string,
  ) {
    super(message);
    this.name = 'FeatureError';
  }
}

/** FNV-1a, for text n-gram buckets: stable across processes and versions. */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let k = 0; k < s.length; k++) {
    h ^= s.charCodeAt(k);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Lowercase words of letters and digits in any script. */
const words = (text: string): string[] => text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];

/** Words, word pairs and character trigrams of each word (padded), each hashed into a bucket of its label. */
function textFeatures(key: string, text: string, buckets: number): string[] {
  const w = words(text);
  const grams = [...w, ...w.slice(1).map((x, k) => `${w[k]} ${x}`)];
  for (const word of w) {
    const padded = `^${word}$`;
    for (let k = 0; k + 3 <= padded.length; k++) grams.push(`#${padded.slice(k, k + 3)}`);
  }
  return [...new Set(grams.map((g) => `${key}~${hash(g) % buckets}`))];
}

function numericWeight(key: string, raw: string, spec: LabelSpec): number {
  const x = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(x)) throw new FeatureError(key, `label ${key} is declared numeric but is ${JSON.stringify(raw.slice(0, 40))}`);
  if (typeof spec === 'object') return Math.min(1, Math.max(0, (x - spec.min) / (spec.max - spec.min)));
  // No declared range: a log scale keeps prices and counts of any size within a few units.
  return (Math.sign(x) * Math.log1p(Math.abs(x))) / 10;
}

function kindOf(config: FeaturesConfig, side: Side, key: string): LabelSpec {
  return config[side].labels[key] ?? config[side].otherLabels;
}

/**
 * The content features of one item or user under the schema: categories (items), categorical
 * labels as `key=value`, numeric labels as `key#` weighted by their scaled value, text labels as
 * hashed n-grams. Throws {@link FeatureError} for a numeric label that is not a number.
 */
export function featuresOf(config: FeaturesConfig, side: Side, categories: readonly string[], labels: Readonly<Record<string, string>>): Feature[] {
  const out: Feature[] = [];
  if (side === 'items' && config.items.categories) for (const c of categories) out.push({ name: `cat:${c}`, weight: 1 });
  for (const [key, value] of Object.entries(labels)) {
    const spec = kindOf(config, side, key);
    const kind = typeof spec === 'object' ? 'numeric' : spec;
    if (kind === 'ignore') continue;
    if (kind === 'categorical') out.push({ name: `${key}=${value}`, weight: 1 });
    else if (kind === 'numeric') out.push({ name: `${key}#`, weight: numericWeight(key, value, spec) });
    else for (const name of textFeatures(key, value, config.textBuckets)) out.push({ name, weight: 1 });
  }
  return out;
}

/** Why an item's or user's labels cannot be stored under the schema, naming the label; null when they can. */
export function featureProblem(config: FeaturesConfig, side: Side, categories: readonly string[], labels: Readonly<Record<string, string>>): { label: string | null; message: string } | null {
  try {
    const n = featuresOf(config, side, categories, labels).length;
    if (n > config.maxPerEntity) return { label: null, message: `give ${n} content features, more than the ${config.maxPerEntity} allowed (features.maxPerEntity): shorten the text labels or declare some ignore` };
    return null;
  } catch (err) {
    if (err instanceof FeatureError) return { label: err.label, message: err.message };
    throw err;
  }
}
