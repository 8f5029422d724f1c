import { randomBytes } from 'node:crypto';
import { ResultCache } from '../serving/result-cache.js';
import type { RankedList } from './run.js';

/** A ranked list kept for its cursors, with what produced it. */
export interface StoredList {
  id: string;
  /** Whose list it is: a cursor only pages its own user's list. */
  userId: string;
  list: RankedList;
  /** The serving index's model and version when it was ranked. */
  model: string | null;
  modelVersion: string | null;
}

/** A cursor that names no list (expired, evicted, or from elsewhere). */
export class CursorExpiredError extends Error {}
export class BadCursorError extends Error {}

const CURSOR = /^([A-Za-z0-9_-]{16})\.(\d{1,6})$/;

export function encodeCursor(id: string, offset: number): string {
  return Buffer.from(`${id}.${offset}`).toString('base64url');
}

export function decodeCursor(cursor: string): { id: string; offset: number } {
  const m = CURSOR.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!m) throw new BadCursorError('is not a cursor this API issued');
  return { id: m[1], offset: Number(m[2]) };
}

/** Estimated heap bytes of a stored list: ~200 per item (object, id, proposal map), ~500 for the rest. */
function listBytes(s: StoredList): number {
  let bytes = 500;
  for (const it of s.list.items) bytes += 200 + 2 * it.itemId.length;
  return bytes;
}

/**
 * Ranked lists kept for `ttlMs` so a feed scrolls through one fixed order: each page is a slice,
 * and every item appears once across the pages. Bounded by entries and estimated bytes (least
 * recently used go first); an evicted list's cursor answers 410.
 */
export class ListStore {
  private readonly lists: ResultCache<StoredList>;

  constructor(maxEntries: number, maxBytes: number, ttlMs: number, now: () => number = Date.now) {
    this.lists = new ResultCache(maxEntries, ttlMs, now, { maxBytes, sizeOf: listBytes });
  }

  /** A process-random prefix and a counter: unguessable across processes, unique within one, no entropy drawn per request. */
  private readonly prefix = randomBytes(6);
  private counter = 0;

  newId(): string {
    const id = Buffer.alloc(12);
    this.prefix.copy(id);
    id.writeUIntBE(++this.counter % 2 ** 48, 6, 6);
    return id.toString('base64url');
  }

  put(stored: StoredList): void {
    this.lists.set(stored.userId, stored.id, stored);
  }

  get(id: string): StoredList | undefined {
    return this.lists.get('', id);
  }

  get size(): number {
    return this.lists.size;
  }

  get bytes(): number {
    return this.lists.bytes;
  }
}

/**
 * A list extended past what was served: the first `served` items stay as the client saw them, the
 * deeper list follows without them, so no item is repeated or skipped across pages.
 */
export function extendList(old: RankedList, deeper: RankedList, served: number): RankedList {
  const prefix = old.items.slice(0, served);
  const shown = new Set(prefix.map((x) => x.itemId));
  return { ...deeper, items: [...prefix, ...deeper.items.filter((x) => !shown.has(x.itemId))].slice(0, deeper.depth) };
}
