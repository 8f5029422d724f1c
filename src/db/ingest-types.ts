/** A validated rating ready to store; `timestamp` is epoch milliseconds. */
export interface RatingRecord {
  userId: string;
  itemId: string;
  rating: number;
  timestamp: number;
}

import { createHash, randomBytes } from 'node:crypto';

/** A validated implicit event ready to store; `timestamp` is epoch milliseconds. */
export interface EventRecord {
  userId: string;
  itemId: string;
  /** A type declared in EVENT_TYPES. */
  type: string;
  value: number;
  timestamp: number;
  eventId?: string;
  /** The server chose `timestamp` (the client sent none): the event is new by definition. */
  stamped?: boolean;
}

/** What a write did, row by row: reported back to the client. */
export interface WriteCounts {
  inserted: number;
  updated: number;
  ignored: number;
}

/** Marks an id the server gave (derived from content, or drawn for a stamped event): a client's own ids are taken as they are. */
export const CONTENT_ID_PREFIX = '~';

/**
 * The id an event is stored under: the client's `eventId`, else, when the client said when it
 * happened, one derived from what the event says (user, item, type, value, timestamp). So the same
 * file imported twice, or a batch retried after a lost answer, stores each event once. An event
 * the server stamped is new by definition (two clicks sent together without times are two
 * clicks): it gets a random id, so that its export, imported again, is still stored once.
 * 22 base64url characters (SHA-256 or random): 132 bits, no collision in any real history.
 */
export function storedEventId(e: EventRecord): string {
  if (e.eventId !== undefined) return e.eventId;
  if (e.stamped) return CONTENT_ID_PREFIX + randomBytes(17).toString('base64url').slice(0, 22);
  const digest = createHash('sha256').update(JSON.stringify([e.userId, e.itemId, e.type, e.value, e.timestamp])).digest('base64url');
  return CONTENT_ID_PREFIX + digest.slice(0, 22);
}
