import type { CatalogueRepository, CatalogueRows } from '../db/catalogue-repository.js';

/** Per-category bitmaps kept per model index; beyond this many, the least recently used go. */
const MAX_CATEGORY_BITMAPS = 256;
/** How often requests may check the database for catalogue writes made by other processes. */
const VERSION_CHECK_MS = 500;

interface Restriction {
  hidden: boolean;
  availableFrom: number | null;
  availableUntil: number | null;
}

/** The catalogue mapped onto one model index's dense item ids. */
interface IndexView {
  version: number;
  /** 1 = hidden; 2 = has an availability window (check `from`/`until`). */
  flags: Uint8Array;
  from: Float64Array;
  until: Float64Array;
  bitmaps: Map<string, Uint8Array>;
}

export interface ItemSpace {
  readonly itemIds: readonly string[];
  readonly itemIndex: ReadonlyMap<string, number>;
}

export interface ItemFilter {
  categories?: readonly string[];
  exclude?: readonly string[];
  includeHidden?: boolean;
}

/**
 * Item visibility and categories in memory, shaped for cheap filtering before top-N: per model
 * index a flags array (hidden / availability window) and lazily built per-category bitmaps, so a
 * request's filter is a few array reads per item, never a scan of item metadata. Reloaded when
 * the database's catalogue version changes (writes from any process bump it).
 */
export class Catalogue {
  private rows: CatalogueRows = { version: -1, restricted: [], categories: [] };
  private restrictions = new Map<string, Restriction>();
  private members = new Map<string, Set<string>>();
  private readonly views = new WeakMap<ItemSpace, IndexView>();
  private lastCheck = 0;

  constructor(
    private readonly repo: CatalogueRepository,
    private readonly now: () => number = Date.now,
  ) {
    this.reload();
  }

  /** Called after a write in this process, so its own requests see it at once. */
  reload(): void {
    this.rows = this.repo.rows();
    this.restrictions = new Map(this.rows.restricted.map((r) => [r.itemId, r]));
    this.members = new Map();
    for (const { itemId, category } of this.rows.categories) {
      let set = this.members.get(category);
      if (!set) this.members.set(category, (set = new Set()));
      set.add(itemId);
    }
    this.lastCheck = this.now();
  }

  private fresh(): void {
    const now = this.now();
    if (now - this.lastCheck < VERSION_CHECK_MS) return;
    this.lastCheck = now;
    if (this.repo.version() !== this.rows.version) this.reload();
  }

  private view(space: ItemSpace): IndexView {
    let v = this.views.get(space);
    if (v && v.version === this.rows.version) return v;
    const n = space.itemIds.length;
    v = { version: this.rows.version, flags: new Uint8Array(n), from: new Float64Array(n), until: new Float64Array(n), bitmaps: new Map() };
    for (const [id, r] of this.restrictions) {
      const i = space.itemIndex.get(id);
      if (i === undefined) continue;
      if (r.hidden) v.flags[i] |= 1;
      if (r.availableFrom !== null || r.availableUntil !== null) {
        v.flags[i] |= 2;
        v.from[i] = r.availableFrom ?? -Infinity;
        v.until[i] = r.availableUntil ?? Infinity;
      }
    }
    this.views.set(space, v);
    return v;
  }

  private bitmap(space: ItemSpace, v: IndexView, category: string): Uint8Array {
    let bits = v.bitmaps.get(category);
    if (bits) {
      v.bitmaps.delete(category); // re-insert: most recently used last
      v.bitmaps.set(category, bits);
      return bits;
    }
    bits = new Uint8Array(space.itemIds.length);
    for (const id of this.members.get(category) ?? []) {
      const i = space.itemIndex.get(id);
      if (i !== undefined) bits[i] = 1;
    }
    v.bitmaps.set(category, bits);
    if (v.bitmaps.size > MAX_CATEGORY_BITMAPS) v.bitmaps.delete(v.bitmaps.keys().next().value!);
    return bits;
  }

  /** The catalogue version requests currently see (part of cached answers' keys). */
  get version(): number {
    this.fresh();
    return this.rows.version;
  }

  /** A dense-id predicate: true for items the request must not get. */
  skipper(space: ItemSpace, filter: ItemFilter): (i: number) => boolean {
    this.fresh();
    const v = this.view(space);
    const now = this.now();
    const hiddenMask = filter.includeHidden ? 0 : 1;
    const bitmaps = filter.categories?.length ? filter.categories.map((c) => this.bitmap(space, v, c)) : null;
    const excluded = filter.exclude?.length ? new Set(filter.exclude.map((id) => space.itemIndex.get(id)).filter((i): i is number => i !== undefined)) : null;
    return (i: number): boolean => {
      const f = v.flags[i];
      if (f !== 0) {
        if (f & hiddenMask) return true;
        if (f & 2 && (now < v.from[i] || now >= v.until[i])) return true;
      }
      if (bitmaps) {
        let any = false;
        for (const b of bitmaps) if (b[i]) any = true;
        if (!any) return true;
      }
      return excluded !== null && excluded.has(i);
    };
  }

  /** The same rule by external id (fallback rankings are not in a model's id space). */
  skipperByExternalId(filter: ItemFilter): (itemId: string) => boolean {
    this.fresh();
    const now = this.now();
    const sets = filter.categories?.length ? filter.categories.map((c) => this.members.get(c) ?? new Set<string>()) : null;
    const excluded = filter.exclude?.length ? new Set(filter.exclude) : null;
    return (id: string): boolean => {
      const r = this.restrictions.get(id);
      if (r) {
        if (r.hidden && !filter.includeHidden) return true;
        if ((r.availableFrom !== null && now < r.availableFrom) || (r.availableUntil !== null && now >= r.availableUntil)) return true;
      }
      if (sets && !sets.some((s) => s.has(id))) return true;
      return excluded !== null && excluded.has(id);
    };
  }
}
