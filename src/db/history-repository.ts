
export interface HistoryEntry {
  kind: 'rating' | 'event';
  itemId: string;
  timestamp: number;
  /** Present for ratings. */
  rating?: number;
  /** Present for events. */
  type?: string;
  value?: number;
  eventId?: string | null;
}

/** Position after the last entry of a page: entries sort by (timestamp desc, kind asc, id desc). */
export interface HistoryCursor {
  ts: number;
  kind: 'event' | 'rating';
  id: number;
}

export interface HistoryPage {
  entries: HistoryEntry[];
  next: HistoryCursor | null;
}

export interface HistoryRepository {
  /** The user's ratings and events, newest first; undefined when the user is unknown. */
  page(externalUserId: string, limit: number, after: HistoryCursor | null): Promise<HistoryPage | undefined>;
}

/** A history entry as both engines' queries return it. */
export interface HistoryRow {
  kind: 'rating' | 'event';
  id: number;
  ts: number;
  item: string;
  value: number;
  type: string | null;
  event_id: string | null;
}

function toEntry(row: HistoryRow): HistoryEntry {
  if (row.kind === 'rating') return { kind: 'rating', itemId: row.item, timestamp: row.ts, rating: row.value };
  return { kind: 'event', itemId: row.item, timestamp: row.ts, type: row.type ?? '', value: row.value, eventId: row.event_id };
}

/** A page from up to `limit + 1` rows in order: the extra row only says that another page follows. */
export function toPage(rows: readonly HistoryRow[], limit: number): HistoryPage {
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return { entries: page.map(toEntry), next: rows.length > limit && last ? { ts: last.ts, kind: last.kind, id: last.id } : null };
}
