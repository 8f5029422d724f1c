import { readFileSync } from 'node:fs';
import { parse, YAMLParseError } from 'yaml';
import { SETTINGS } from './settings.js';

/** A configuration file read and checked for shape; values are validated with the environment's. */
export interface ConfigFile {
  path: string;
  /** Settings the file gives, as environment-style strings by variable name. */
  values: Record<string, string>;
  /** The file's `pipeline` section, unvalidated (null when it has none). */
  pipeline: unknown;
  /** The file's `features` section (the content-feature schema), unvalidated (null when it has none). */
  features: unknown;
}

/** A problem at a place in the file; the caller turns it into a ConfigError. */
export class ConfigFileError extends Error {
  constructor(
    readonly file: string,
    readonly at: string,
    message: string,
  ) {
    super(message);
    this.name = 'ConfigFileError';
  }
}

const SECTIONS = new Map<string, Map<string, string>>();
for (const { path, env } of SETTINGS) {
  const [section, key] = path.split('.');
  if (!SECTIONS.has(section)) SECTIONS.set(section, new Map());
  SECTIONS.get(section)!.set(key, env);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `eventTypes: {click: 1, dislike: negative}` and `eventWeights: {click: 2}` are maps in the file, lists in the environment. */
function asPairs(value: Record<string, unknown>, file: string, at: string): string {
  return Object.entries(value)
    .map(([k, v]) => {
      if (typeof v !== 'number' && typeof v !== 'string') throw new ConfigFileError(file, `${at}.${k}`, 'must be a number or a word such as negative or read');
      return `${k}=${v}`;
    })
    .join(',');
}

function scalar(value: unknown, file: string, at: string): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (isObject(value) && (at === 'feedback.eventTypes' || at === 'feedback.eventWeights')) return asPairs(value, file, at);
  throw new ConfigFileError(file, at, 'must be a single value (a string, number or boolean)');
}

/** Reads recflow.yaml: known sections and keys only, each a single value; `pipeline` is kept for its own schema. */
export function readConfigFile(path: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigFileError(path, 'file', `cannot be read: ${(err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    const where = err instanceof YAMLParseError && err.linePos ? `line ${err.linePos[0].line}` : 'file';
    throw new ConfigFileError(path, where, `is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  if (doc === null || doc === undefined) return { path, values: {}, pipeline: null, features: null };
  if (!isObject(doc)) throw new ConfigFileError(path, 'file', 'must be a mapping of sections (server, database, …, pipeline)');
  const values: Record<string, string> = {};
  let pipeline: unknown = null;
  let features: unknown = null;
  for (const [section, body] of Object.entries(doc)) {
    if (section === 'pipeline') {
      pipeline = body;
      continue;
    }
    if (section === 'features') {
      features = body;
      continue;
    }
    const keys = SECTIONS.get(section);
    if (!keys) throw new ConfigFileError(path, section, `is not a section (expected one of ${[...SECTIONS.keys(), 'pipeline', 'features'].join(', ')})`);
    if (body === null) continue;
    if (!isObject(body)) throw new ConfigFileError(path, section, 'must be a mapping of settings');
    for (const [key, value] of Object.entries(body)) {
      const env = keys.get(key);
      if (!env) throw new ConfigFileError(path, `${section}.${key}`, `is not a setting of ${section} (expected one of ${[...keys.keys()].join(', ')})`);
      const v = scalar(value, path, `${section}.${key}`);
      if (v !== undefined) values[env] = v;
    }
  }
  return { path, values, pipeline, features };
}
