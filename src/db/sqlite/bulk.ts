import { type BulkKind, type BulkRecord, type BulkRepository } from '../bulk-repository.js';
import type { Db } from './connection.js';
import { promised } from './promised.js';

const labels = (json: string | null): Record<string, string> => (json ? (JSON.parse(json) as Record<string, string>) : {});

type ItemRow = { id: number; external_id: string; hidden: number; available_from: number | null; available_until: number | null; labels: string | null; created_at: number; categories: string | null };
/** U+10FFFF sorts after every character, so `[prefix, prefix + MAX_CHAR)` is the range of ids starting with prefix. */
const MAX_CHAR = String.fromCodePoint(0x10ffff);

export function createBulkRepository(db: Db): BulkRepository {
  const itemRows = (where: string, ...params: (string | number)[]): BulkRecord[] =>
    db
      .prepare<(string | number)[], ItemRow>(
        `SELECT i.id, i.external_id, i.hidden, i.available_from, i.available_until, i.labels, i.created_at,
                (SELECT json_group_array(category) FROM (SELECT category FROM item_categories c WHERE c.item_id = i.id ORDER BY category)) AS categories
           FROM items i ${where}`,
      )
      .all(...params)
      .map((r) => ({
        cursor: r.id,
        itemId: r.external_id,
        categories: r.categories ? (JSON.parse(r.categories) as string[]) : [],
        hidden: r.hidden === 1,
        availableFrom: r.available_from,
        availableUntil: r.available_until,
        labels: labels(r.labels),
        createdAt: r.created_at,
      }));
  const userRows = (where: string, ...params: (string | number)[]): BulkRecord[] =>
    db
      .prepare<(string | number)[], { id: number; external_id: string; labels: string | null; created_at: number }>(`SELECT id, external_id, labels, created_at FROM users ${where}`)
      .all(...params)
      .map((r) => ({ cursor: r.id, userId: r.external_id, labels: labels(r.labels), createdAt: r.created_at }));
  const pages: Record<BulkKind, (after: number, limit: number) => BulkRecord[]> = {
    users: (after, limit) => userRows('WHERE id > ? ORDER BY id LIMIT ?', after, limit),
    items: (after, limit) => itemRows('WHERE i.id > ? ORDER BY i.id LIMIT ?', after, limit),
    ratings: (after, limit) =>
      db
        .prepare<[number, number], { id: number; user: string; item: string; value: number; ts: number }>(
          'SELECT r.id, u.external_id AS user, i.external_id AS item, r.value, r.ts FROM ratings r JOIN users u ON u.id = r.user_id JOIN items i ON i.id = r.item_id WHERE r.id > ? ORDER BY r.id LIMIT ?',
        )
        .all(after, limit)
        .map((r) => ({ cursor: r.id, userId: r.user, itemId: r.item, rating: r.value, timestamp: r.ts })),
    events: (after, limit) =>
      db
        .prepare<[number, number], { id: number; user: string; item: string; type: string; value: number; ts: number; event_id: string | null }>(
          'SELECT e.id, u.external_id AS user, i.external_id AS item, e.type, e.value, e.ts, e.event_id FROM events e JOIN users u ON u.id = e.user_id JOIN items i ON i.id = e.item_id WHERE e.id > ? ORDER BY e.id LIMIT ?',
        )
        .all(after, limit)
        .map((r) => ({ cursor: r.id, userId: r.user, itemId: r.item, type: r.type, value: r.value, timestamp: r.ts, ...(r.event_id ? { eventId: r.event_id } : {}) })),
  };
  const deleteRating = db.prepare<[string, string]>(
    'DELETE FROM ratings WHERE user_id = (SELECT id FROM users WHERE external_id = ?) AND item_id = (SELECT id FROM items WHERE external_id = ?)',
  );
  const eventUser = db.prepare<[string], string>('SELECT u.external_id FROM events e JOIN users u ON u.id = e.user_id WHERE e.event_id = ?').pluck();
  const deleteEventRow = db.prepare<[string]>('DELETE FROM events WHERE event_id = ?');
  const deleteEvent = db.transaction((eventId: string): string | null => {
    const user = eventUser.get(eventId);
    if (user === undefined) return null;
    deleteEventRow.run(eventId);
    return user;
  });
  return promised<BulkRepository>({
    page: (kind, after, limit) => pages[kind](after, limit),
    searchItems: (search, limit) =>
      'prefix' in search
        ? itemRows('WHERE i.external_id >= ? AND i.external_id < ? ORDER BY i.external_id LIMIT ?', search.prefix, search.prefix + MAX_CHAR, limit)
        : itemRows('JOIN item_categories k ON k.item_id = i.id WHERE k.category = ? AND k.item_id > ? ORDER BY k.item_id LIMIT ?', search.category, search.after, limit),
    searchUsers: (prefix, limit) => userRows('WHERE external_id >= ? AND external_id < ? ORDER BY external_id LIMIT ?', prefix, prefix + MAX_CHAR, limit),
    deleteRating: (userId, itemId) => deleteRating.run(userId, itemId).changes > 0,
    deleteEvent: (eventId) => deleteEvent.immediate(eventId),
  });
}
