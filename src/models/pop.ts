import { nItems, nUsers, type Interactions } from '../data/interactions.js';
import type { FitOptions, FitSummary, Hyper, ModelState, RecModel, ServingEmbeddings } from './model.js';

/** ItemPop: every user gets the items with the most training interactions (the baseline every model must beat). */
export class PopModel implements RecModel {
  readonly name = 'pop' as const;
  readonly hyper: Hyper = {};
  private counts: Float32Array;

  constructor(
    readonly nUsers: number,
    readonly nItems: number,
  ) {
    this.counts = new Float32Array(nItems);
  }

  async fit(train: Interactions, options: FitOptions): Promise<FitSummary> {
    if (nUsers(train) !== this.nUsers || nItems(train) !== this.nItems) throw new Error('pop: data does not match the model size');
    const t0 = performance.now();
    this.counts = new Float32Array(this.nItems);
    for (const i of train.item) this.counts[i]++;
    const seconds = (performance.now() - t0) / 1000;
    const valid = options.validate?.((u, i) => this.scorePairs(u, i));
    await options.onEpoch?.({ phase: 'count', epoch: 1, epochs: 1, loss: 0, samples: train.item.length, samplesPerSec: train.item.length / Math.max(seconds, 1e-9), seconds, ...(valid !== undefined ? { valid } : {}) });
    return { epochs: 1, bestEpoch: 1, ...(valid !== undefined ? { bestValid: valid } : {}), samples: train.item.length, seconds, samplesPerSec: train.item.length / Math.max(seconds, 1e-9) };
  }

  scorePairs(_users: Int32Array, items: Int32Array): Float32Array {
    return Float32Array.from(items, (i) => this.counts[i]);
  }

  embeddings(): ServingEmbeddings {
    return { kind: 'popularity', exact: true, user: null, item: { rows: this.nItems, cols: 0, data: new Float32Array(0) }, itemBias: this.counts.slice() };
  }

  getState(): ModelState {
    return { arrays: { counts: this.counts.slice() }, meta: {} };
  }

  setState(state: ModelState): void {
    const c = state.arrays.counts;
    if (!(c instanceof Float32Array) || c.length !== this.nItems) throw new Error('pop state: counts missing or mis-sized');
    this.counts = c.slice();
  }
}
