
export const BULK_KINDS = ['users', 'items', 'ratings', 'events'] as const;
export type BulkKind = (typeof BULK_KINDS)[number];

/** One exported row: the same fields the ingest and catalogue routes take, plus `cursor`. */
export type BulkRecord = Record<string, unknown> & { cursor: number };

export interface BulkRepository {
  /**
   * Up to `limit` rows of a table after cursor `after` (row ids, increasing): a bounded query per
   * page, so an export of any size streams in constant memory and resumes where it stopped.
   */
  page(kind: BulkKind, after: number, limit: number): Promise<BulkRecord[]>;
  /**
   * Items in one category (by row id, after `after`), or whose id starts with `prefix` (by id, the
   * first `limit`): both walk an index in order, so a page costs `limit` rows whatever the catalogue.
   */
  searchItems(search: { category: string; after: number } | { prefix: string }, limit: number): Promise<BulkRecord[]>;
  /** Users whose id starts with `prefix`, the first `limit` by id (an index walk, as for items). */
  searchUsers(prefix: string, limit: number): Promise<BulkRecord[]>;
  /** Deletes one rating; false when the user has none for the item. */
  deleteRating(userId: string, itemId: string): Promise<boolean>;
  /** Deletes one event by its eventId; the event's user, or null when there is none. */
  deleteEvent(eventId: string): Promise<string | null>;
}

