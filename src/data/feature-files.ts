import { readFile } from 'node:fs/promises';
import { LoaderError, splitCsv } from './loaders.js';

/** What a catalogue or user file says about one id: categories (items only) and labels. */
export interface EntityFeatures {
  categories: string[];
  labels: Record<string, string>;
}

export const FEATURE_FILE_FORMATS = ['auto', 'movielens-item', 'movielens-user', 'csv', 'ndjson'] as const;
export type FeatureFileFormat = (typeof FEATURE_FILE_FORMATS)[number];

/** MovieLens-100K's genre flags, in u.item's column order (its u.genre). */
const ML100K_GENRES = ['unknown', 'Action', 'Adventure', 'Animation', "Children's", 'Comedy', 'Crime', 'Documentary', 'Drama', 'Fantasy', 'Film-Noir', 'Horror', 'Musical', 'Mystery', 'Romance', 'Sci-Fi', 'Thriller', 'War', 'Western'];

/** u.item: `id|title|release date|video date|url|19 genre flags`; the title's year becomes a label. */
function movielensItem(line: string): [string, EntityFeatures] {
  const f = line.split('|');
  if (f.length < 5 + ML100K_GENRES.length) throw new Error(`expected ${5 + ML100K_GENRES.length} |-separated fields, found ${f.length}`);
  const categories = ML100K_GENRES.filter((_, g) => f[5 + g] === '1');
  const year = /\((\d{4})\)\s*$/.exec(f[1])?.[1];
  return [f[0], { categories, labels: { title: f[1], ...(year ? { year } : {}) } }];
}

/** u.user: `id|age|gender|occupation|zip`. */
function movielensUser(line: string): [string, EntityFeatures] {
  const f = line.split('|');
  if (f.length < 5) throw new Error(`expected 5 |-separated fields, found ${f.length}`);
  return [f[0], { categories: [], labels: { age: f[1], gender: f[2], occupation: f[3], zip: f[4] } }];
}

/** NDJSON: `{"id": …, "categories": […], "labels": {…}}` per line. */
function ndjson(line: string): [string, EntityFeatures] {
  const o = JSON.parse(line) as { id?: unknown; categories?: unknown; labels?: unknown };
  if (typeof o.id !== 'string' && typeof o.id !== 'number') throw new Error('needs an "id" (string or number)');
  const categories = Array.isArray(o.categories) ? o.categories.map(String) : [];
  const labels = o.labels && typeof o.labels === 'object' ? Object.fromEntries(Object.entries(o.labels).map(([k, v]) => [k, String(v)])) : {};
  return [String(o.id), { categories, labels }];
}

/** UTF-8 when the bytes are valid UTF-8, else Latin-1 (GroupLens ships MovieLens as Latin-1). */
function decodeText(raw: Buffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch {
    return raw.toString('latin1');
  }
}

function detect(first: string): Exclude<FeatureFileFormat, 'auto'> {
  if (first.startsWith('{')) return 'ndjson';
  const bars = first.split('|').length;
  if (bars >= 5 + ML100K_GENRES.length) return 'movielens-item';
  if (bars === 5) return 'movielens-user';
  if (first.includes(',')) return 'csv';
  throw new LoaderError(`cannot tell the format of a feature file from ${JSON.stringify(first.slice(0, 80))}; pass the format`);
}

/**
 * Reads a file of item or user features: MovieLens u.item / u.user, NDJSON, or CSV with a header
 * whose `id` column names the entity, an optional `categories` column (`|`-separated), and every
 * other column a label. MovieLens files are Latin-1, as GroupLens ships them. Bad lines are named.
 */
export async function readFeatureFile(path: string, format: FeatureFileFormat = 'auto'): Promise<{ features: Map<string, EntityFeatures>; format: string; errors: { line: number; message: string }[] }> {
  const raw = await readFile(path);
  const text = decodeText(raw);
  const lines = text.split(/\r?\n/);
  const first = lines.find((l) => l.trim() !== '') ?? '';
  const kind = format === 'auto' ? detect(first) : format;
  const features = new Map<string, EntityFeatures>();
  const errors: { line: number; message: string }[] = [];
  let header: string[] | null = null;
  lines.forEach((line, k) => {
    if (line.trim() === '') return;
    try {
      if (kind === 'csv' && !header) {
        header = splitCsv(line).map((h) => h.trim());
        if (!header.includes('id')) throw new Error('the header needs an id column');
        return;
      }
      const [id, f] = kind === 'movielens-item' ? movielensItem(line) : kind === 'movielens-user' ? movielensUser(line) : kind === 'ndjson' ? ndjson(line) : csvRow(header!, splitCsv(line));
      features.set(id, f);
    } catch (err) {
      if (errors.length < 100) errors.push({ line: k + 1, message: (err as Error).message });
    }
  });
  return { features, format: kind, errors };
}

function csvRow(header: string[], cells: string[]): [string, EntityFeatures] {
  const id = cells[header.indexOf('id')]?.trim();
  if (!id) throw new Error('has no id');
  const labels: Record<string, string> = {};
  let categories: string[] = [];
  header.forEach((h, c) => {
    if (h === 'id' || cells[c] === undefined || cells[c] === '') return;
    if (h === 'categories') categories = cells[c].split('|').filter(Boolean);
    else labels[h] = cells[c];
  });
  return [id, { categories, labels }];
}
