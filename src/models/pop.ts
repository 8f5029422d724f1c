import { nItems, nUsers, type Interactions } from '../data/interactions.js';
import { singlePassFit, type FitOptions, type FitSummary, type Hyper, type ModelState, type RecModel, type ServingEmbeddings } from './model.js';

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
    return singlePassFit(this, train, options, 'count', () => {
      this.counts = new Float32Array(this.nItems);
      for (const i of train.item) this.counts[i]++;
    });
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
