import { type ItemMeta, type UserLabels, type CatalogueRepository, type ItemRow, parseLabels, toItemView } from '../catalogue-repository.js';
import type { Db } from './connection.js';
import { promised } from './promised.js';
import { createEntitiesRepository } from './entities.js';

export function createCatalogueRepository(db: Db): CatalogueRepository {
  const entities = createEntitiesRepository(db);
  const itemRow = db.prepare<[string], ItemRow>('SELECT * FROM items WHERE external_id = ?');
  const categoriesOf = db.prepare<[number], string>('SELECT category FROM item_categories WHERE item_id = ? ORDER BY category').pluck();
  const updateItem = db.prepare<[number, number | null, number | null, string | null, number, number]>(
    'UPDATE items SET hidden = ?, available_from = ?, available_until = ?, labels = ?, updated_at = ? WHERE id = ?',
  );
  const clearCategories = db.prepare<[number]>('DELETE FROM item_categories WHERE item_id = ?');
  const addCategory = db.prepare<[number, string]>('INSERT OR IGNORE INTO item_categories (item_id, category) VALUES (?, ?)');
  const bump = db.prepare('UPDATE catalogue_version SET version = version + 1 WHERE id = 1');
  const currentVersion = db.prepare<[], number>('SELECT version FROM catalogue_version WHERE id = 1').pluck();
  const labelsJson = (labels: Record<string, string>): string | null => (Object.keys(labels).length ? JSON.stringify(labels) : null);

  const putItems = db.transaction((items: readonly ItemMeta[], now: number) => {
    let inserted = 0;
    for (const it of items) {
      const existed = entities.find('items', it.itemId) !== undefined;
      const id = entities.resolve('items', it.itemId, now);
      if (!existed) inserted++;
      updateItem.run(it.hidden ? 1 : 0, it.availableFrom, it.availableUntil, labelsJson(it.labels), now, id);
      clearCategories.run(id);
      for (const c of it.categories) addCategory.run(id, c);
    }
    bump.run();
    return { inserted, updated: items.length - inserted, version: currentVersion.get()! };
  });
  const hideRow = db.prepare<[number, number]>('UPDATE items SET hidden = 1, updated_at = ? WHERE id = ?');
  const hide = db.transaction((itemId: string, now: number) => {
    const row = itemRow.get(itemId);
    if (!row) return null;
    hideRow.run(now, row.id);
    bump.run();
    return currentVersion.get()!;
  });
  const relabel = db.prepare<[string | null, number, number]>('UPDATE users SET labels = ?, updated_at = ? WHERE id = ?');
  const putUsers = db.transaction((users: readonly UserLabels[], now: number) => {
    let inserted = 0;
    for (const u of users) {
      if (entities.find('users', u.userId) === undefined) inserted++;
      relabel.run(labelsJson(u.labels), now, entities.resolve('users', u.userId, now));
    }
    return { inserted };
  });

  const deleteRatingsOf = db.prepare<[number]>('DELETE FROM ratings WHERE user_id = ?');
  const deleteEventsOf = db.prepare<[number]>('DELETE FROM events WHERE user_id = ?');
  const deleteUser = db.prepare<[number]>('DELETE FROM users WHERE id = ?');
  const erase = db.transaction((userId: string) => {
    const id = entities.find('users', userId);
    if (id === undefined) return undefined;
    const ratings = deleteRatingsOf.run(id).changes;
    const events = deleteEventsOf.run(id).changes;
    deleteUser.run(id);
    return { ratings, events };
  });

  return promised<CatalogueRepository>({
    putItems: (items, now) => putItems.immediate(items, now),
    getItem(itemId) {
      const r = itemRow.get(itemId);
      return r ? toItemView(r, categoriesOf.all(r.id)) : undefined;
    },
    hideItem: (itemId, now) => hide.immediate(itemId, now),
    putUsers: (users, now) => putUsers.immediate(users, now),
    getUser(userId) {
      const r = db.prepare<[string], { external_id: string; labels: string | null; created_at: number; updated_at: number | null }>('SELECT external_id, labels, created_at, updated_at FROM users WHERE external_id = ?').get(userId);
      if (!r) return undefined;
      return { userId: r.external_id, labels: r.labels ? (JSON.parse(r.labels) as Record<string, string>) : {}, createdAt: r.created_at, updatedAt: r.updated_at };
    },
    eraseUser: (userId) => erase.immediate(userId),
    version: () => currentVersion.get()!,
    userLabels: () =>
      db
        .prepare<[], { userId: string; labels: string }>('SELECT external_id AS userId, labels FROM users WHERE labels IS NOT NULL')
        .all()
        .map((r) => ({ userId: r.userId, labels: parseLabels(r.labels) })),
    rows() {
      const read = db.transaction(() => ({
        version: db.prepare('SELECT version FROM catalogue_version WHERE id = 1').pluck().get() as number,
        restricted: db
          .prepare<[], { itemId: string; hidden: number; availableFrom: number | null; availableUntil: number | null }>(
            'SELECT external_id AS itemId, hidden, available_from AS availableFrom, available_until AS availableUntil FROM items WHERE hidden = 1 OR available_from IS NOT NULL OR available_until IS NOT NULL',
          )
          .all()
          .map((r) => ({ ...r, hidden: r.hidden === 1 })),
        categories: db.prepare<[], { itemId: string; category: string }>('SELECT i.external_id AS itemId, c.category FROM item_categories c JOIN items i ON i.id = c.item_id').all(),
        labels: db
          .prepare<[], { itemId: string; labels: string }>('SELECT external_id AS itemId, labels FROM items WHERE labels IS NOT NULL')
          .all()
          .map((r) => ({ itemId: r.itemId, labels: parseLabels(r.labels) })),
      }));
      return read.deferred();
    },
  });
}
