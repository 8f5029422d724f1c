import type { Db } from './connection.js';
import { promised } from './promised.js';
import { createEntitiesRepository } from './entities-repository.js';

export interface ItemMeta {
  itemId: string;
  categories: string[];
  hidden: boolean;
  availableFrom: number | null;
  availableUntil: number | null;
  labels: Record<string, string>;
}

export interface ItemView extends ItemMeta {
  createdAt: number;
  updatedAt: number | null;
}

/** A user's labels as the catalogue routes take them. */
export interface UserLabels {
  userId: string;
  labels: Record<string, string>;
}

export interface UserView {
  userId: string;
  labels: Record<string, string>;
  createdAt: number;
  updatedAt: number | null;
}

/** The catalogue rows serving needs: only items that are not plain defaults. */
export interface CatalogueRows {
  version: number;
  restricted: { itemId: string; hidden: boolean; availableFrom: number | null; availableUntil: number | null }[];
  categories: { itemId: string; category: string }[];
}

export interface CatalogueRepository {
  /** Creates or replaces items' metadata, all-or-nothing; returns how many were created and the catalogue version after the write. */
  putItems(items: readonly ItemMeta[], now: number): Promise<{ inserted: number; updated: number; version: number }>;
  getItem(itemId: string): Promise<ItemView | undefined>;
  /** Soft delete: the item is hidden and keeps its interactions. The catalogue version after the write; null for an unknown item. */
  hideItem(itemId: string, now: number): Promise<number | null>;
  /** Creates or relabels users, all-or-nothing (the last entry of a user in the batch wins); how many were new. */
  putUsers(users: readonly UserLabels[], now: number): Promise<{ inserted: number }>;
  getUser(userId: string): Promise<UserView | undefined>;
  /**
   * Right to erasure: deletes the user's record, ratings and events in one transaction (items
   * stay). Undefined for an unknown user. The id may come back later as a new user.
   */
  eraseUser(userId: string): Promise<{ ratings: number; events: number } | undefined>;
  version(): Promise<number>;
  rows(): Promise<CatalogueRows>;
}

/** An `items` row as both engines return it. */
export interface ItemRow {
  id: number;
  external_id: string;
  hidden: number;
  available_from: number | null;
  available_until: number | null;
  labels: string | null;
  created_at: number;
  updated_at: number | null;
}

export function toItemView(r: ItemRow, categories: string[]): ItemView {
  return {
    itemId: r.external_id,
    categories,
    hidden: r.hidden === 1,
    availableFrom: r.available_from,
    availableUntil: r.available_until,
    labels: r.labels ? (JSON.parse(r.labels) as Record<string, string>) : {},
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

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
      }));
      return read.deferred();
    },
  });
}
