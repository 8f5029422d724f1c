import type { BulkKind, BulkRecord, BulkRepository } from '../bulk-repository.js';
import { settleIdAllocation } from './entities.js';
import { changes, row, rows, transaction, type Client, type Pool, type Queryable } from './pool.js';

const labels = (json: string | null): Record<string, string> => (json ? (JSON.parse(json) as Record<string, string>) : {});
type ItemRow = { id: number; external_id: string; hidden: number; available_from: number | null; available_until: number | null; labels: string | null; created_at: number; categories: string[] | null };
/** U+10FFFF sorts after every character in byte order, so `[prefix, prefix + MAX_CHAR)` is the ids starting with prefix. */
const MAX_CHAR = String.fromCodePoint(0x10ffff);

function itemRows(db: Queryable, where: string, params: unknown[]): Promise<BulkRecord[]> {
  return rows<ItemRow>(
    db,
    `SELECT i.id, i.external_id, i.hidden, i.available_from, i.available_until, i.labels, i.created_at,
            ARRAY(SELECT category FROM item_categories c WHERE c.item_id = i.id ORDER BY category COLLATE "C") AS categories
       FROM items i ${where}`,
    params,
  ).then((found) =>
    found.map((r) => ({
      cursor: r.id,
      itemId: r.external_id,
      categories: r.categories ?? [],
      hidden: r.hidden === 1,
      availableFrom: r.available_from,
      availableUntil: r.available_until,
      labels: labels(r.labels),
      createdAt: r.created_at,
    })),
  );
}

function userRows(db: Queryable, where: string, params: unknown[]): Promise<BulkRecord[]> {
  return rows<{ id: number; external_id: string; labels: string | null; created_at: number }>(db, `SELECT id, external_id, labels, created_at FROM users ${where}`, params).then((found) =>
    found.map((r) => ({ cursor: r.id, userId: r.external_id, labels: labels(r.labels), createdAt: r.created_at })),
  );
}

function page(db: Queryable, kind: BulkKind, after: number, limit: number): Promise<BulkRecord[]> {
  if (kind === 'items') return itemRows(db, 'WHERE i.id > $1 ORDER BY i.id LIMIT $2', [after, limit]);
  if (kind === 'users') return userRows(db, 'WHERE id > $1 ORDER BY id LIMIT $2', [after, limit]);
  if (kind === 'ratings') {
    return rows<{ id: number; user: string; item: string; value: number; ts: number }>(
      db,
      'SELECT r.id, u.external_id AS user, i.external_id AS item, r.value, r.ts FROM ratings r JOIN users u ON u.id = r.user_id JOIN items i ON i.id = r.item_id WHERE r.id > $1 ORDER BY r.id LIMIT $2',
      [after, limit],
    ).then((found) => found.map((r) => ({ cursor: r.id, userId: r.user, itemId: r.item, rating: r.value, timestamp: r.ts })));
  }
  return rows<{ id: number; user: string; item: string; type: string; value: number; ts: number; event_id: string | null }>(
    db,
    'SELECT e.id, u.external_id AS user, i.external_id AS item, e.type, e.value, e.ts, e.event_id FROM events e JOIN users u ON u.id = e.user_id JOIN items i ON i.id = e.item_id WHERE e.id > $1 ORDER BY e.id LIMIT $2',
    [after, limit],
  ).then((found) => found.map((r) => ({ cursor: r.id, userId: r.user, itemId: r.item, type: r.type, value: r.value, timestamp: r.ts, ...(r.event_id ? { eventId: r.event_id } : {}) })));
}

/** A page of an id-cursor walk, read once no write in flight can still commit a lower id (see entities.ts). */
function settledPage(pool: Pool, read: (client: Client) => Promise<BulkRecord[]>): Promise<BulkRecord[]> {
  return transaction(pool, async (client) => {
    await settleIdAllocation(client);
    return read(client);
  });
}

export function postgresBulk(pool: Pool): BulkRepository {
  return {
    page: (kind, after, limit) => settledPage(pool, (client) => page(client, kind, after, limit)),
    searchItems: (search, limit) =>
      'prefix' in search
        ? itemRows(pool, 'WHERE i.external_id COLLATE "C" >= $1 AND i.external_id COLLATE "C" < $2 ORDER BY i.external_id COLLATE "C" LIMIT $3', [search.prefix, search.prefix + MAX_CHAR, limit])
        : settledPage(pool, (client) => itemRows(client, 'JOIN item_categories k ON k.item_id = i.id WHERE k.category = $1 AND k.item_id > $2 ORDER BY k.item_id LIMIT $3', [search.category, search.after, limit])),
    searchUsers: (prefix, limit) => userRows(pool, 'WHERE external_id COLLATE "C" >= $1 AND external_id COLLATE "C" < $2 ORDER BY external_id COLLATE "C" LIMIT $3', [prefix, prefix + MAX_CHAR, limit]),
    deleteRating: async (userId, itemId) =>
      (await changes(pool, 'DELETE FROM ratings WHERE user_id = (SELECT id FROM users WHERE external_id = $1) AND item_id = (SELECT id FROM items WHERE external_id = $2)', [userId, itemId])) > 0,
    deleteEvent: (eventId) =>
      transaction(pool, async (client) => {
        const user = await row<{ user: string }>(client, 'SELECT u.external_id AS user FROM events e JOIN users u ON u.id = e.user_id WHERE e.event_id = $1 FOR UPDATE OF e', [eventId]);
        if (!user) return null;
        await client.query('DELETE FROM events WHERE event_id = $1', [eventId]);
        return user.user;
      }),
  };
}
