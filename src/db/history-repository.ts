import type { Db } from './connection.js';
import { promised } from './promised.js';

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

export function createHistoryRepository(db: Db): HistoryRepository {
  const findUser = db.prepare('SELECT id FROM users WHERE external_id = ?').pluck();
  // 'event' < 'rating' alphabetically, which fixes the tie order between the two kinds. Each branch
  // reads at most one page from its (user_id, ts) index and only the page's items are looked up:
  // reading every interaction of the user first made a page of a 200,000-interaction user cost
  // 65 ms on the event loop; now ~1 ms whatever the user holds.
  const after = (kind: 'rating' | 'event') => `(@ts IS NULL OR ts < @ts OR (ts = @ts AND ('${kind}' > @kind OR ('${kind}' = @kind AND id < @id))))`;
  const select = db.prepare(`
    SELECT p.kind, p.id, p.ts, (SELECT external_id FROM items WHERE id = p.item_id) AS item, p.value, p.type, p.event_id FROM (
      SELECT * FROM (SELECT 'rating' AS kind, id, ts, item_id, value, NULL AS type, NULL AS event_id
        FROM ratings WHERE user_id = @user AND ${after('rating')} ORDER BY ts DESC, id DESC LIMIT @limit)
      UNION ALL
      SELECT * FROM (SELECT 'event' AS kind, id, ts, item_id, value, type, event_id
        FROM events WHERE user_id = @user AND ${after('event')} ORDER BY ts DESC, id DESC LIMIT @limit)
    ) p
    ORDER BY p.ts DESC, p.kind ASC, p.id DESC
    LIMIT @limit`);

  return promised<HistoryRepository>({
    page(externalUserId, limit, after) {
      const user = findUser.get(externalUserId) as number | undefined;
      if (user === undefined) return undefined;
      const rows = select.all({
        user,
        ts: after?.ts ?? null,
        kind: after?.kind ?? null,
        id: after?.id ?? null,
        limit: limit + 1,
      }) as HistoryRow[];
      return toPage(rows, limit);
    },
  });
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
