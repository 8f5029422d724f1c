import { parseLabels, toItemView, type CatalogueRepository, type CatalogueRows, type ItemMeta, type ItemRow, type ItemView } from '../catalogue-repository.js';
import { resolveCounting } from './entities.js';
import { changes, row, rows, transaction, type Client, type Pool } from './pool.js';

const labelsJson = (labels: Record<string, string>): string | null => (Object.keys(labels).length ? JSON.stringify(labels) : null);

/** Bumps the catalogue version; the row lock also orders concurrent catalogue writes. */
async function bump(client: Client): Promise<number> {
  return (await row<{ version: number }>(client, 'UPDATE catalogue_version SET version = version + 1 WHERE id = 1 RETURNING version'))!.version;
}

async function putItems(pool: Pool, items: readonly ItemMeta[], now: number): Promise<{ inserted: number; updated: number; version: number }> {
  return transaction(pool, async (client) => {
    // The version row first: its lock queues concurrent catalogue writes, which could otherwise
    // lock the same items in different orders.
    const version = await bump(client);
    const { ids: resolved, created: inserted } = await resolveCounting(client, 'items', items.map((it) => it.itemId), now);
    // The last occurrence of an item in the batch wins, as when applied one by one.
    const last = new Map(items.map((it) => [it.itemId, it]));
    const metas = [...last.values()];
    const idList = metas.map((it) => resolved.get(it.itemId)!);
    await client.query(
      `UPDATE items SET hidden = x.h, available_from = x.f, available_until = x.u, labels = x.l, updated_at = $6
         FROM unnest($1::bigint[], $2::smallint[], $3::bigint[], $4::bigint[], $5::text[]) AS x(id, h, f, u, l) WHERE items.id = x.id`,
      [idList, metas.map((it) => (it.hidden ? 1 : 0)), metas.map((it) => it.availableFrom), metas.map((it) => it.availableUntil), metas.map((it) => labelsJson(it.labels)), now],
    );
    await client.query('DELETE FROM item_categories WHERE item_id = ANY($1::bigint[])', [idList]);
    const cats = metas.flatMap((it, k) => [...new Set(it.categories)].map((c) => [idList[k], c] as const));
    if (cats.length > 0) {
      await client.query('INSERT INTO item_categories (item_id, category) SELECT * FROM unnest($1::bigint[], $2::text[]) ON CONFLICT DO NOTHING', [cats.map((c) => c[0]), cats.map((c) => c[1])]);
    }
    return { inserted, updated: items.length - inserted, version };
  });
}

async function getItem(pool: Pool, itemId: string): Promise<ItemView | undefined> {
  const r = await row<ItemRow>(pool, 'SELECT * FROM items WHERE external_id = $1', [itemId]);
  if (!r) return undefined;
  const categories = await rows<{ category: string }>(pool, 'SELECT category FROM item_categories WHERE item_id = $1 ORDER BY category COLLATE "C"', [r.id]);
  return toItemView(r, categories.map((c) => c.category));
}

/** Every non-default catalogue row, read in one snapshot so the version matches the rows. */
async function catalogueRows(pool: Pool): Promise<CatalogueRows> {
  return transaction(
    pool,
    async (client) => ({
      version: (await row<{ version: number }>(client, 'SELECT version FROM catalogue_version WHERE id = 1'))!.version,
      restricted: (
        await rows<{ itemId: string; hidden: number; availableFrom: number | null; availableUntil: number | null }>(
          client,
          'SELECT external_id AS "itemId", hidden, available_from AS "availableFrom", available_until AS "availableUntil" FROM items WHERE hidden = 1 OR available_from IS NOT NULL OR available_until IS NOT NULL',
        )
      ).map((r) => ({ ...r, hidden: r.hidden === 1 })),
      categories: await rows<{ itemId: string; category: string }>(client, 'SELECT i.external_id AS "itemId", c.category FROM item_categories c JOIN items i ON i.id = c.item_id'),
      labels: (await rows<{ itemId: string; labels: string }>(client, 'SELECT external_id AS "itemId", labels FROM items WHERE labels IS NOT NULL')).map((r) => ({ itemId: r.itemId, labels: parseLabels(r.labels) })),
    }),
    'REPEATABLE READ',
    true,
  );
}

export function postgresCatalogue(pool: Pool): CatalogueRepository {
  return {
    putItems: (items, now) => putItems(pool, items, now),
    getItem: (itemId) => getItem(pool, itemId),
    hideItem: (itemId, now) =>
      transaction(pool, async (client) => {
        // Catalogue writes lock the version row first (see putItems).
        await client.query('SELECT version FROM catalogue_version WHERE id = 1 FOR UPDATE');
        if ((await changes(client, 'UPDATE items SET hidden = 1, updated_at = $1 WHERE external_id = $2', [now, itemId])) === 0) return null;
        return bump(client);
      }),
    putUsers: (users, now) =>
      transaction(pool, async (client) => {
        const { ids: resolved, created } = await resolveCounting(client, 'users', users.map((u) => u.userId), now);
        // The last entry of a user wins, as when applied one by one; in id order, against deadlocks.
        const last = [...new Map(users.map((u) => [u.userId, u])).values()].sort((a, b) => resolved.get(a.userId)! - resolved.get(b.userId)!);
        await client.query('UPDATE users SET labels = x.l, updated_at = $3 FROM unnest($1::bigint[], $2::text[]) AS x(id, l) WHERE users.id = x.id', [
          last.map((u) => resolved.get(u.userId)),
          last.map((u) => labelsJson(u.labels)),
          now,
        ]);
        // A user's second entry in one batch is no longer new, as SQLite counts it.
        return { inserted: created };
      }),
    getUser: async (userId) => {
      const r = await row<{ external_id: string; labels: string | null; created_at: number; updated_at: number | null }>(pool, 'SELECT external_id, labels, created_at, updated_at FROM users WHERE external_id = $1', [userId]);
      return r ? { userId: r.external_id, labels: parseLabels(r.labels), createdAt: r.created_at, updatedAt: r.updated_at } : undefined;
    },
    eraseUser: (userId) =>
      transaction(pool, async (client) => {
        const id = (await row<{ id: number }>(client, 'SELECT id FROM users WHERE external_id = $1 FOR UPDATE', [userId]))?.id;
        if (id === undefined) return undefined;
        const ratings = await changes(client, 'DELETE FROM ratings WHERE user_id = $1', [id]);
        const events = await changes(client, 'DELETE FROM events WHERE user_id = $1', [id]);
        await client.query('DELETE FROM users WHERE id = $1', [id]);
        return { ratings, events };
      }),
    version: async () => (await row<{ version: number }>(pool, 'SELECT version FROM catalogue_version WHERE id = 1'))!.version,
    rows: () => catalogueRows(pool),
    userLabels: async () => (await rows<{ userId: string; labels: string }>(pool, 'SELECT external_id AS "userId", labels FROM users WHERE labels IS NOT NULL')).map((r) => ({ userId: r.userId, labels: parseLabels(r.labels) })),
  };
}
