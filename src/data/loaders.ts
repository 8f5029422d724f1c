import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { InteractionsBuilder, type Interactions, type RawInteraction } from './interactions.js';

export const FILE_FORMATS = ['movielens-tab', 'movielens-dat', 'recbole', 'csv'] as const;
export type FileFormat = (typeof FILE_FORMATS)[number];

export interface LineError {
  line: number;
  message: string;
}

export interface LoadResult {
  interactions: Interactions;
  format: FileFormat;
  lines: number;
  accepted: number;
  /** The first {@link MAX_REPORTED_ERRORS} bad lines. */
  errors: LineError[];
  errorCount: number;
}

export interface LoadOptions {
  format?: FileFormat | 'auto';
  /** Top of the rating scale; default: the largest rating in the file (at least 1). */
  ratingMax?: number;
}

export class LoaderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LoaderError';
  }
}

const MAX_REPORTED_ERRORS = 100;
const MAX_ID_LENGTH = 256;
// Timestamps below this are seconds (MovieLens, RecBole); above, milliseconds.
const SECONDS_LIMIT = 1e11;

type Columns = { user: number; item: number; rating: number; ts: number };
type LineParser = (line: string) => RawInteraction | string;

/** Guesses the format from the first non-empty line. */
export function detectFormat(firstLine: string): FileFormat {
  if (firstLine.includes('::')) return 'movielens-dat';
  if (/\S+:(token|float)\b/.test(firstLine)) return 'recbole';
  if (firstLine.split('\t').length >= 3) return 'movielens-tab';
  if (firstLine.includes(',')) return 'csv';
  throw new LoaderError(`cannot detect the format from the first line ${JSON.stringify(firstLine.slice(0, 80))}; pass --format`);
}

export function splitCsv(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let k = 0; k < line.length; k++) {
    const ch = line[k];
    if (quoted) {
      if (ch === '"' && line[k + 1] === '"') {
        cur += '"';
        k++;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out.map((s) => s.trim());
}

function headerColumns(names: string[], aliases: Record<keyof Columns, string[]>): Columns {
  const find = (key: keyof Columns): number => names.findIndex((n) => aliases[key].includes(n.toLowerCase()));
  const cols = { user: find('user'), item: find('item'), rating: find('rating'), ts: find('ts') };
  if (cols.user < 0) throw new LoaderError(`header has no user column (one of ${aliases.user.join(', ')})`);
  if (cols.item < 0) throw new LoaderError(`header has no item column (one of ${aliases.item.join(', ')})`);
  return cols;
}

const CSV_ALIASES: Record<keyof Columns, string[]> = {
  user: ['user', 'user_id', 'userid'],
  item: ['item', 'item_id', 'itemid', 'movie_id', 'movieid'],
  rating: ['rating', 'value', 'score'],
  ts: ['timestamp', 'ts', 'time'],
};

function toRecord(fields: string[], cols: Columns): RawInteraction | string {
  const user = fields[cols.user];
  const item = fields[cols.item];
  if (!user) return 'empty user id';
  if (!item) return 'empty item id';
  if (user.length > MAX_ID_LENGTH || item.length > MAX_ID_LENGTH) return `id longer than ${MAX_ID_LENGTH} characters`;
  let ts = 0;
  if (cols.ts >= 0 && fields[cols.ts] !== undefined && fields[cols.ts] !== '') {
    ts = Number(fields[cols.ts]);
    if (!Number.isFinite(ts) || ts < 0) return `timestamp ${JSON.stringify(fields[cols.ts])} is not a non-negative number`;
    if (ts < SECONDS_LIMIT) ts *= 1000;
  }
  if (cols.rating < 0 || fields[cols.rating] === undefined || fields[cols.rating] === '') return { user, item, weight: 1, ts };
  const rating = Number(fields[cols.rating]);
  if (!Number.isFinite(rating)) return `rating ${JSON.stringify(fields[cols.rating])} is not a number`;
  return { user, item, rating, ts };
}

function fixedColumns(separator: string | RegExp): LineParser {
  const cols: Columns = { user: 0, item: 1, rating: 2, ts: 3 };
  return (line) => {
    const fields = line.split(separator).map((s) => s.trim());
    if (fields.length < 3) return `expected user${separator}item${separator}rating[${separator}timestamp], got ${fields.length} field(s)`;
    return toRecord(fields, cols);
  };
}

/** A parser for the format, given its header line when it has one. */
function parserFor(format: FileFormat, header: string | null): LineParser {
  switch (format) {
    case 'movielens-tab':
      return fixedColumns(/\t/);
    case 'movielens-dat':
      return fixedColumns('::');
    case 'recbole': {
      const names = header!.split('\t').map((h) => h.trim().split(':')[0]);
      const cols = headerColumns(names, CSV_ALIASES);
      return (line) => toRecord(line.split('\t').map((s) => s.trim()), cols);
    }
    case 'csv': {
      const cols = headerColumns(splitCsv(header!), CSV_ALIASES);
      return (line) => toRecord(splitCsv(line), cols);
    }
  }
}

const hasHeader = (format: FileFormat): boolean => format === 'recbole' || format === 'csv';

/** What a streamed read saw besides the records: the format, lines and (the first) bad lines. */
export interface ReadReport {
  format: FileFormat | null;
  lines: number;
  accepted: number;
  errors: LineError[];
  errorCount: number;
}

/**
 * The records of an interaction file, one at a time (constant memory whatever the file's size);
 * bad lines are skipped and counted in `report`.
 */
export async function* readInteractionRecords(path: string, options: Pick<LoadOptions, 'format'>, report: ReadReport): AsyncGenerator<RawInteraction> {
  const reader = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
  report.format = options.format && options.format !== 'auto' ? options.format : null;
  let parse: LineParser | null = null;
  for await (const raw of reader) {
    report.lines++;
    const line = raw.replace(/^\uFEFF/, '');
    if (line.trim() === '') continue;
    if (!parse) {
      report.format ??= detectFormat(line);
      parse = parserFor(report.format, hasHeader(report.format) ? line : null);
      if (hasHeader(report.format)) continue;
    }
    const rec = parse(line);
    if (typeof rec === 'string') {
      report.errorCount++;
      if (report.errors.length < MAX_REPORTED_ERRORS) report.errors.push({ line: report.lines, message: rec });
    } else {
      report.accepted++;
      yield rec;
    }
  }
}

export const emptyReport = (): ReadReport => ({ format: null, lines: 0, accepted: 0, errors: [], errorCount: 0 });

/**
 * Streams an interaction file into {@link Interactions}. Bad lines are skipped and reported with
 * their line numbers; a file with no good line is an error.
 */
export async function loadInteractionsFile(path: string, options: LoadOptions = {}): Promise<LoadResult> {
  const report = emptyReport();
  const records: RawInteraction[] = [];
  for await (const rec of readInteractionRecords(path, options, report)) records.push(rec);
  const { format, lines: lineNo, errors, errorCount } = report;
  if (!format) throw new LoaderError(`${path} is empty`);
  if (records.length === 0) throw new LoaderError(`${path}: no valid interaction in ${lineNo} line(s)${errors[0] ? `; line ${errors[0].line}: ${errors[0].message}` : ''}`);
  const ratingMax = options.ratingMax ?? records.reduce((m, r) => Math.max(m, r.rating ?? 0), 1);
  const builder = new InteractionsBuilder();
  for (const r of records) builder.add(r);
  return { interactions: builder.build(ratingMax), format, lines: lineNo, accepted: records.length, errors, errorCount };
}
