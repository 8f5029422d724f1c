import type { FeaturesConfig } from '../config/features.js';
import { featuresOf, type Feature } from '../features/encode.js';
import type { Catalogue, CatalogueChange } from '../serving/catalogue.js';
import { coldItemsFor } from '../serving/cold-items.js';
import type { ServingIndex } from '../serving/index.js';
import type { ModelStore } from '../serving/model-store.js';
import { yieldToEventLoop } from '../scheduling/yield.js';
import { ContentIndex } from '../serving/content-index.js';

/** Items given vectors per slice of a rebuild before yielding to requests. */
const SLICE = 2000;

/**
 * Keeps what serving derives from the catalogue's content features in step with it: the content
 * similarity index, and every loaded hybrid index's cold items. Rebuilt (in slices) when a
 * version loads or the catalogue is reloaded, patched item by item when this process writes to
 * it, so an item written with labels is scorable before the write's answer is sent.
 */
export class FeatureKeeper {
  private readonly synced = new WeakSet<ServingIndex>();
  readonly content = new ContentIndex();

  constructor(
    private readonly store: ModelStore,
    private readonly catalogue: Catalogue,
    private readonly features: FeaturesConfig,
  ) {}

  private featuresOf(itemId: string): Feature[] {
    try {
      return featuresOf(this.features, 'items', this.catalogue.categoriesOf(itemId), this.catalogue.labelsOf(itemId));
    } catch {
      return [];
    }
  }

  /** Gives every newly loaded hybrid index its cold items (those already synced keep theirs). */
  async sync(): Promise<void> {
    for (const index of this.store.loaded()) {
      if (this.synced.has(index)) continue;
      this.synced.add(index);
      await this.rebuild(index);
    }
  }

  /** Every catalogue item the index does not know, from scratch (after a full catalogue reload). */
  async rebuild(index: ServingIndex): Promise<void> {
    const cold = coldItemsFor(index);
    if (!cold) return;
    let k = 0;
    for (const itemId of this.catalogue.describedItems()) {
      if (!index.itemIndex.has(itemId)) cold.upsert(itemId, this.featuresOf(itemId));
      if (++k % SLICE === 0) await yieldToEventLoop();
    }
    index.cold = cold;
  }

  /** The content index from the whole catalogue (at start, and after a full reload). */
  async rebuildContent(): Promise<void> {
    let k = 0;
    for (const itemId of this.catalogue.describedItems()) {
      this.content.set(itemId, this.featuresOf(itemId));
      if (++k % SLICE === 0) await yieldToEventLoop();
    }
  }

  /** A full catalogue reload: the content index and every hybrid index's cold items are rebuilt. */
  async reloaded(): Promise<void> {
    await this.rebuildContent();
    for (const index of this.store.loaded()) await this.rebuild(index);
  }

  /** Catalogue writes of this process: the items they name only (hidden ones stay, the catalogue filters them). */
  apply(changes: readonly CatalogueChange[]): void {
    for (const c of changes) this.content.set(c.itemId, this.featuresOf(c.itemId));
    for (const index of this.store.loaded()) {
      const cold = index.cold;
      if (!cold) continue;
      for (const c of changes) if (!index.itemIndex.has(c.itemId)) cold.upsert(c.itemId, this.featuresOf(c.itemId));
    }
  }
}
