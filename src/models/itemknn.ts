import { csrHas, emptyCsr, nItems, nUsers, toCsr, type Csr, type Interactions } from '../data/interactions.js';
import { singlePassFit, type FitOptions, type ItemBasedModel, type FitSummary, type Hyper, type ModelState, type ServingEmbeddings } from './model.js';
import { stripUndefined } from './ncf-model.js';
import { arraysToCsr, csrToArrays } from './nn/state.js';

export interface ItemKnnHyper {
  /** Neighbours kept per item. */
  neighbours: number;
  /** Shrinkage added to the cosine denominator: damps similarities built on few co-occurrences. */
  shrink: number;
}

export const ITEMKNN_DEFAULTS: ItemKnnHyper = { neighbours: 100, shrink: 10 };

/**
 * ItemKNN (Sarwar et al. 2001, the EINMF paper's baseline): cosine similarity between items'
 * binary user columns, each item's top-K neighbours kept; score(u, i) = Σ sim(i, j) over the
 * neighbours j of i that u interacted with.
 */
export class ItemKnnModel implements ItemBasedModel {
  readonly name = 'itemknn' as const;
  readonly config: ItemKnnHyper;
  private neighbours: Csr;
  private seen: Csr;

  constructor(
    readonly nUsers: number,
    readonly nItems: number,
    hyper: Partial<ItemKnnHyper> = {},
  ) {
    this.config = { ...ITEMKNN_DEFAULTS, ...stripUndefined(hyper) };
    this.neighbours = emptyCsr(nItems, nItems);
    this.seen = emptyCsr(nUsers, nItems);
  }

  get hyper(): Hyper {
    return { ...this.config };
  }

  async fit(train: Interactions, options: FitOptions): Promise<FitSummary> {
    if (nUsers(train) !== this.nUsers || nItems(train) !== this.nItems) throw new Error('itemknn: data does not match the model size');
    return singlePassFit(this, train, options, 'similarity', async () => {
      this.seen = toCsr(train, 'byUser');
      this.neighbours = await topKCosine(this.seen, toCsr(train, 'byItem'), this.config, options.signal);
    });
  }

  scorePairs(users: Int32Array, items: Int32Array): Float32Array {
    const out = new Float32Array(users.length);
    const { indptr, indices, values } = this.neighbours;
    for (let k = 0; k < users.length; k++) {
      let s = 0;
      for (let p = indptr[items[k]]; p < indptr[items[k] + 1]; p++) if (csrHas(this.seen, users[k], indices[p])) s += values[p];
      out[k] = s;
    }
    return out;
  }

  /** The weight of `to` among `from`'s neighbours (0 when it is not one). */
  contribution(from: number, to: number): number {
    const { indptr, indices, values } = this.neighbours;
    let lo = indptr[from];
    let hi = indptr[from + 1] - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (indices[mid] === to) return values[mid];
      if (indices[mid] < to) lo = mid + 1;
      else hi = mid - 1;
    }
    return 0;
  }

  /** Σ of the neighbour weights of the user's items, for every item. */
  scoresFor(items: ArrayLike<number>): Float32Array {
    const { indptr, indices, values } = this.neighbours;
    const scores = new Float32Array(this.nItems);
    for (let k = 0; k < items.length; k++) {
      const j = items[k];
      for (let p = indptr[j]; p < indptr[j + 1]; p++) scores[indices[p]] += values[p];
    }
    return scores;
  }

  /** The neighbour lists: item i's row holds its most similar items. */
  neighbourLists(): Csr {
    return this.neighbours;
  }

  embeddings(): ServingEmbeddings {
    return { kind: 'item-item', exact: true, user: null, item: { rows: this.nItems, cols: 0, data: new Float32Array(0) } };
  }

  getState(): ModelState {
    return { arrays: { ...csrToArrays('nn', this.neighbours), ...csrToArrays('seen', this.seen) }, meta: {} };
  }

  setState(state: ModelState): void {
    this.neighbours = arraysToCsr(state, 'nn', this.nItems, this.nItems);
    this.seen = arraysToCsr(state, 'seen', this.nUsers, this.nItems);
  }
}

/** Each item's top-K cosine neighbours, from co-occurrence counts over users' rows. */
async function topKCosine(byUser: Csr, byItem: Csr, config: ItemKnnHyper, signal?: AbortSignal): Promise<Csr> {
  const n = byItem.rows;
  const count = (i: number): number => byItem.indptr[i + 1] - byItem.indptr[i];
  const co = new Float32Array(n);
  const touched: number[] = [];
  const indptr = new Int32Array(n + 1);
  const indices: number[] = [];
  const values: number[] = [];
  let lastYield = performance.now();
  for (let i = 0; i < n; i++) {
    for (let p = byItem.indptr[i]; p < byItem.indptr[i + 1]; p++) {
      const u = byItem.indices[p];
      for (let q = byUser.indptr[u]; q < byUser.indptr[u + 1]; q++) {
        const j = byUser.indices[q];
        if (j === i) continue;
        if (co[j] === 0) touched.push(j);
        co[j]++;
      }
    }
    const scored = touched.map((j) => ({ j, s: co[j] / (Math.sqrt(count(i) * count(j)) + config.shrink) }));
    for (const j of touched) co[j] = 0;
    touched.length = 0;
    scored.sort((a, b) => b.s - a.s || a.j - b.j);
    const top = scored.slice(0, config.neighbours).sort((a, b) => a.j - b.j);
    for (const { j, s } of top) {
      indices.push(j);
      values.push(s);
    }
    indptr[i + 1] = indices.length;
    if (performance.now() - lastYield > 50) {
      await new Promise((r) => setImmediate(r));
      if (signal?.aborted) throw new Error('training aborted');
      lastYield = performance.now();
    }
  }
  return { rows: n, cols: n, indptr, indices: Int32Array.from(indices), values: Float32Array.from(values) };
}
