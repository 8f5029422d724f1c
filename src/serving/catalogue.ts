import type { CatalogueRows } from '../db/catalogue-repository.js';
import { CategoryBitmaps, IndexViews, type ItemSpace } from './catalogue-views.js';
import { yieldToEventLoop } from '../scheduling/yield.js';

export type { ItemSpace } from './catalogue-views.js';

/** How often requests may check the database for catalogue writes made by other processes. */
const VERSION_CHECK_MS = 500;
/** Rows turned into maps per slice of a full reload before yielding to requests. */
const LOAD_SLICE = 5000;


export interface Restriction {
  hidden: boolean;
  availableFrom: number | null;
  availableUntil: number | null;
}

/** One item's catalogue state after a write in this process. */
export interface CatalogueChange extends Restriction {
  itemId: string;
  categories: readonly string[];
  labels: Readonly<Record<string, string>>;
}

export interface ItemFilter {
  categories?: readonly string[];
  exclude?: readonly string[];
  includeHidden?: boolean;
}

export interface CatalogueSource {
  /** The catalogue version in the database (one row: cheap). */
  version(): Promise<number>;
  /** Every non-default row, read off the event loop. */
  load(): Promise<CatalogueRows>;
}

/** The catalogue's in-memory state: restricted items and category members, by external id. */
export class CatalogueState {
  readonly restrictions = new Map<string, Restriction>();
  readonly members = new Map<string, Set<string>>();
  readonly categoriesOf = new Map<string, readonly string[]>();
  readonly labelsOf = new Map<string, Readonly<Record<string, string>>>();

  /** Replaces one item's entries (a write touches only the items it names). */
  set(change: CatalogueChange): void {
    const { itemId } = change;
    for (const c of this.categoriesOf.get(itemId) ?? []) this.members.get(c)?.delete(itemId);
    if (change.categories.length) this.categoriesOf.set(itemId, [...change.categories]);
    else this.categoriesOf.delete(itemId);
    if (Object.keys(change.labels).length) this.labelsOf.set(itemId, change.labels);
    else this.labelsOf.delete(itemId);
    for (const c of change.categories) {
      let set = this.members.get(c);
      if (!set) this.members.set(c, (set = new Set()));
      set.add(itemId);
    }
    if (change.hidden || change.availableFrom !== null || change.availableUntil !== null) {
      this.restrictions.set(itemId, { hidden: change.hidden, availableFrom: change.availableFrom, availableUntil: change.availableUntil });
    } else this.restrictions.delete(itemId);
  }

  /** True when the item must not be shown under this filter at `now`. */
  skips(id: string, filter: ItemFilter, now: number): boolean {
    const r = this.restrictions.get(id);
    if (r) {
      if (r.hidden && !filter.includeHidden) return true;
      if ((r.availableFrom !== null && now < r.availableFrom) || (r.availableUntil !== null && now >= r.availableUntil)) return true;
    }
    return false;
  }
}

/** Builds the state from a full read, in slices that yield to requests. */
async function stateFromRows(rows: CatalogueRows): Promise<CatalogueState> {
  const state = new CatalogueState();
  const grouped = new Map<string, string[]>();
  for (let k = 0; k < rows.categories.length; k++) {
    const { itemId, category } = rows.categories[k];
    let list = grouped.get(itemId);
    if (!list) grouped.set(itemId, (list = []));
    list.push(category);
    if (k % LOAD_SLICE === LOAD_SLICE - 1) await yieldToEventLoop();
  }
  const restricted = new Map(rows.restricted.map((r) => [r.itemId, r]));
  const labelled = new Map(rows.labels.map((r) => [r.itemId, r.labels]));
  const ids = new Set([...grouped.keys(), ...restricted.keys(), ...labelled.keys()]);
  let k = 0;
  for (const itemId of ids) {
    const r = restricted.get(itemId);
    state.set({ itemId, categories: grouped.get(itemId) ?? [], labels: labelled.get(itemId) ?? {}, hidden: r?.hidden ?? false, availableFrom: r?.availableFrom ?? null, availableUntil: r?.availableUntil ?? null });
    if (++k % LOAD_SLICE === 0) await yieldToEventLoop();
  }
  return state;
}

/**
 * Item visibility and categories in memory, shaped for cheap filtering before top-N. A write in
 * this process updates only the items it names; a write by another process (the version in the
 * database moved on) triggers a full reload in the background reader. Requests never read the
 * whole catalogue: until a reload or a per-index view is ready they use the state they have.
 */
export class Catalogue {
  private state = new CatalogueState();
  private loadedVersion = -1;
  private lastCheck = 0;
  private loading: Promise<void> | null = null;
  private readonly views = new IndexViews();
  private readonly bitmaps = new CategoryBitmaps();

  constructor(
    private readonly source: CatalogueSource,
    private readonly now: () => number = Date.now,
    private readonly log: { error(obj: object, msg: string): void } = { error: () => undefined },
  ) {}

  /** Reads the whole catalogue off the event loop and swaps it in; concurrent calls coalesce. */
  load(): Promise<void> {
    this.loading ??= this.loadOnce().finally(() => {
      this.loading = null;
    });
    return this.loading;
  }

  private async loadOnce(): Promise<void> {
    for (;;) {
      const rows = await this.source.load();
      // A write applied here while the read ran is newer than what was read: read again.
      if (rows.version < this.loadedVersion) continue;
      this.state = await stateFromRows(rows);
      this.loadedVersion = rows.version;
      this.views.reset();
      this.bitmaps.reset();
      this.lastCheck = this.now();
      this.onReload?.();
      return;
    }
  }

  /** Writes made in this process: applied to those items only. `version` is the database's after the write. */
  apply(changes: readonly CatalogueChange[], version: number): void {
    for (const c of changes) this.state.set(c);
    this.views.update(changes, this.state);
    this.bitmaps.update(changes, this.state);
    const missedOthers = version !== this.loadedVersion + 1;
    this.loadedVersion = Math.max(this.loadedVersion, version);
    if (missedOthers) this.reloadInBackground();
  }

  private reloadInBackground(): void {
    this.load().catch((err: unknown) => this.log.error({ err: (err as Error).message }, 'catalogue reload failed; the previous catalogue keeps serving'));
  }

  private fresh(): void {
    const now = this.now();
    if (now - this.lastCheck < VERSION_CHECK_MS) return;
    this.lastCheck = now;
    // Requests never wait for the check: they see the loaded catalogue, a newer one follows.
    this.source.version().then(
      (stored) => {
        if (!this.loading && stored > this.loadedVersion) this.reloadInBackground();
      },
      (err: unknown) => this.log.error({ err: (err as Error).message }, 'catalogue version check failed'),
    );
  }

  /** Every item with categories or labels (the cold-item overlay reads their features). */
  describedItems(): Iterable<string> {
    return new Set([...this.state.categoriesOf.keys(), ...this.state.labelsOf.keys()]);
  }

  /** Called after a full reload replaced the state (writes of other processes). */
  onReload: (() => void) | null = null;

  /** An item's categories as requests see them (rules, diversity, the ranker). */
  categoriesOf(itemId: string): readonly string[] {
    return this.state.categoriesOf.get(itemId) ?? [];
  }

  labelsOf(itemId: string): Readonly<Record<string, string>> {
    return this.state.labelsOf.get(itemId) ?? {};
  }

  /** The catalogue version requests currently see (part of cached answers' keys). */
  get version(): number {
    this.fresh();
    return this.loadedVersion;
  }

  /** A dense-id predicate: true for items the request must not get. */
  skipper(space: ItemSpace, filter: ItemFilter): (i: number) => boolean {
    this.fresh();
    const now = this.now();
    const state = this.state;
    const view = this.views.ready(space, state);
    const includeHidden = filter.includeHidden ?? false;
    const restricted = view
      ? (i: number): boolean => {
          const f = view.flags[i];
          if (f === 0) return false;
          if (f & 1 && !includeHidden) return true;
          return (f & 2) !== 0 && (now < view.from[i] || now >= view.until[i]);
        }
      : (i: number): boolean => state.skips(space.itemIds[i], filter, now);
    const inCategory = filter.categories?.length ? filter.categories.map((c) => this.bitmaps.test(space, state, c)) : null;
    const excluded = filter.exclude?.length ? new Set(filter.exclude.map((id) => space.itemIndex.get(id)).filter((i): i is number => i !== undefined)) : null;
    return (i: number): boolean => {
      if (restricted(i)) return true;
      if (inCategory && !inCategory.some((has) => has(i))) return true;
      return excluded !== null && excluded.has(i);
    };
  }

  /** The same rule by external id (fallback rankings are not in a model's id space). */
  skipperByExternalId(filter: ItemFilter): (itemId: string) => boolean {
    this.fresh();
    const now = this.now();
    const state = this.state;
    const sets = filter.categories?.length ? filter.categories.map((c) => state.members.get(c) ?? new Set<string>()) : null;
    const excluded = filter.exclude?.length ? new Set(filter.exclude) : null;
    return (id: string): boolean => {
      if (state.skips(id, filter, now)) return true;
      if (sets && !sets.some((s) => s.has(id))) return true;
      return excluded !== null && excluded.has(id);
    };
  }
}
