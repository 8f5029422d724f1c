
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
  /** Items with labels (title, brand, …): rules, the ranker and display read them. */
  labels: { itemId: string; labels: Record<string, string> }[];
}

/** Labels as both engines store them: a JSON object of strings, or null. */
export const parseLabels = (json: string | null): Record<string, string> => (json ? (JSON.parse(json) as Record<string, string>) : {});

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
  /** Every user with labels (the retrain job's ranker reads them; O(users), never on a request). */
  userLabels(): Promise<UserLabels[]>;
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
