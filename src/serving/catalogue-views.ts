import type { CatalogueChange, CatalogueState } from './catalogue.js';
import { yieldToEventLoop } from '../scheduling/yield.js';

/** Per-category bitmaps kept per model index; beyond this many, the least recently used go. */
const MAX_CATEGORY_BITMAPS = 256;
/** Items per slice of a view build before yielding to requests. */
const SLICE = 5000;


export interface ItemSpace {
  readonly itemIds: readonly string[];
  readonly itemIndex: ReadonlyMap<string, number>;
}

/** Restrictions mapped onto one model index's dense ids: 1 = hidden, 2 = availability window. */
export interface IndexView {
  flags: Uint8Array;
  from: Float64Array;
  until: Float64Array;
}

function setFlags(view: IndexView, i: number, state: CatalogueState, itemId: string): void {
  const r = state.restrictions.get(itemId);
  view.flags[i] = r ? (r.hidden ? 1 : 0) | (r.availableFrom !== null || r.availableUntil !== null ? 2 : 0) : 0;
  view.from[i] = r?.availableFrom ?? -Infinity;
  view.until[i] = r?.availableUntil ?? Infinity;
}

/**
 * Something derived from the catalogue state for one index, built in slices in the background;
 * writes that land during the build are replayed on it before it is used.
 */
class SlicedBuild<T> {
  value: T | null = null;
  private pending: string[] = [];

  constructor(
    readonly state: CatalogueState,
    build: (yieldNow: () => Promise<void>) => Promise<T>,
    private readonly patch: (value: T, itemId: string) => void,
  ) {
    void build(yieldToEventLoop).then((v) => {
      for (const id of this.pending) this.patch(v, id);
      this.pending = [];
      this.value = v;
    });
  }

  changed(itemId: string): void {
    if (this.value) this.patch(this.value, itemId);
    else this.pending.push(itemId);
  }
}

/** Restriction flags per model index (weakly held: a swapped-out index takes its view with it). */
export class IndexViews {
  private views = new WeakMap<ItemSpace, SlicedBuild<IndexView>>();
  private live = new Set<WeakRef<ItemSpace>>();

  reset(): void {
    this.views = new WeakMap();
    this.live.clear();
  }

  /** The view if built for this state; otherwise starts building it and returns null. */
  ready(space: ItemSpace, state: CatalogueState): IndexView | null {
    const b = this.views.get(space);
    if (b && b.state === state) return b.value;
    const patch = (v: IndexView, id: string): void => {
      const i = space.itemIndex.get(id);
      if (i !== undefined) setFlags(v, i, state, id);
    };
    this.views.set(space, new SlicedBuild(state, (y) => buildView(space, state, y), patch));
    this.live.add(new WeakRef(space));
    return null;
  }

  update(changes: readonly CatalogueChange[], state: CatalogueState): void {
    for (const ref of this.live) {
      const space = ref.deref();
      const b = space && this.views.get(space);
      if (!b) this.live.delete(ref);
      else if (b.state === state) for (const c of changes) b.changed(c.itemId);
    }
  }
}

async function buildView(space: ItemSpace, state: CatalogueState, yieldNow: () => Promise<void>): Promise<IndexView> {
  const n = space.itemIds.length;
  const view: IndexView = { flags: new Uint8Array(n), from: new Float64Array(n), until: new Float64Array(n) };
  let k = 0;
  for (const id of state.restrictions.keys()) {
    const i = space.itemIndex.get(id);
    if (i !== undefined) setFlags(view, i, state, id);
    if (++k % SLICE === 0) await yieldNow();
  }
  return view;
}

/** Category membership as bitmaps over one index's dense ids, least recently used dropped first. */
export class CategoryBitmaps {
  private perSpace = new WeakMap<ItemSpace, Map<string, SlicedBuild<Uint8Array>>>();
  private live = new Set<WeakRef<ItemSpace>>();

  reset(): void {
    this.perSpace = new WeakMap();
    this.live.clear();
  }

  /** A membership test: the bitmap once built, a set lookup by external id until then. */
  test(space: ItemSpace, state: CatalogueState, category: string): (i: number) => boolean {
    let maps = this.perSpace.get(space);
    if (!maps) {
      this.perSpace.set(space, (maps = new Map()));
      this.live.add(new WeakRef(space));
    }
    let b = maps.get(category);
    if (b && b.state === state) {
      maps.delete(category); // re-insert: most recently used last
      maps.set(category, b);
    } else {
      const patch = (bits: Uint8Array, id: string): void => {
        const i = space.itemIndex.get(id);
        if (i !== undefined) bits[i] = state.members.get(category)?.has(id) ? 1 : 0;
      };
      b = new SlicedBuild(state, (y) => buildBitmap(space, state, category, y), patch);
      maps.set(category, b);
      if (maps.size > MAX_CATEGORY_BITMAPS) maps.delete(maps.keys().next().value!);
    }
    const bits = b.value;
    if (bits) return (i) => bits[i] === 1;
    const members = state.members.get(category);
    return (i) => members?.has(space.itemIds[i]) ?? false;
  }

  update(changes: readonly CatalogueChange[], state: CatalogueState): void {
    for (const ref of this.live) {
      const space = ref.deref();
      const maps = space && this.perSpace.get(space);
      if (!maps) {
        this.live.delete(ref);
        continue;
      }
      for (const b of maps.values()) if (b.state === state) for (const c of changes) b.changed(c.itemId);
    }
  }
}

async function buildBitmap(space: ItemSpace, state: CatalogueState, category: string, yieldNow: () => Promise<void>): Promise<Uint8Array> {
  const bits = new Uint8Array(space.itemIds.length);
  let k = 0;
  for (const id of state.members.get(category) ?? []) {
    const i = space.itemIndex.get(id);
    if (i !== undefined) bits[i] = 1;
    if (++k % SLICE === 0) await yieldNow();
  }
  return bits;
}
