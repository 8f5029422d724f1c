import { emptyCsr, nItems, nUsers, toCsr, type Csr, type Interactions } from '../data/interactions.js';
import { invertSpdInPlace } from './linalg.js';
import { ModelInputError, singlePassFit, throwIfAborted, type FitOptions, type FitSummary, type Hyper, type ItemBasedModel, type ModelState, type ServingEmbeddings } from './model.js';
import { stripUndefined } from './ncf-model.js';
import { arraysToCsr, csrToArrays } from './nn/state.js';

export interface EaseHyper {
  /** L2 regularisation λ added to the Gram matrix's diagonal. */
  lambda: number;
}

export const EASE_DEFAULTS: EaseHyper = { lambda: 600 };

/**
 * Largest catalogue EASE trains on. The closed form needs dense items × items matrices: the Gram
 * matrix inverted in place and L⁻¹ (Float64, 16·n² bytes) plus B (Float32, 4·n² bytes), so 10,000
 * items peak at ≈ 2 GB; the inverse costs ≈ n³/2 multiply-adds (1,682 items: 2.5 s, 3,000: 26 s
 * on one core here). Larger catalogues: iALS.
 */
export const EASE_MAX_ITEMS = 10_000;
/** Neighbours per item kept for similar items (B's largest weights in the item's row). */
const SIMILAR_KEPT = 100;

/**
 * EASE (Steck, WWW 2019): item–item weights in closed form, B = I − P·diag(1/diag(P)) with
 * P = (XᵀX + λI)⁻¹ and a zero diagonal; score(u, j) = Σ_{i ∈ u} B[i][j]. No user vectors, so any
 * user with interactions is scored exactly, whether or not they were in the training data.
 */
export class EaseModel implements ItemBasedModel {
  readonly name = 'ease' as const;
  readonly config: EaseHyper;
  /** B, row-major n × n: row i holds what item i adds to every item's score. */
  private B: Float32Array;
  private seen: Csr;
  private neighbours: Csr;

  constructor(
    readonly nUsers: number,
    readonly nItems: number,
    hyper: Partial<EaseHyper> = {},
  ) {
    if (nItems > EASE_MAX_ITEMS) {
      throw new ModelInputError(
        `EASE needs dense ${nItems.toLocaleString('en')} × ${nItems.toLocaleString('en')} matrices (≈ ${((20 * nItems * nItems) / 2 ** 30).toFixed(1)} GiB); it is limited to ${EASE_MAX_ITEMS.toLocaleString('en')} items — use ials for larger catalogues`,
      );
    }
    this.config = { ...EASE_DEFAULTS, ...stripUndefined(hyper) };
    this.B = new Float32Array(nItems * nItems);
    this.seen = emptyCsr(nUsers, nItems);
    this.neighbours = emptyCsr(nItems, nItems);
  }

  get hyper(): Hyper {
    return { ...this.config };
  }

  async fit(train: Interactions, options: FitOptions): Promise<FitSummary> {
    if (nUsers(train) !== this.nUsers || nItems(train) !== this.nItems) throw new Error('ease: data does not match the model size');
    return singlePassFit(this, train, options, 'closed-form', async () => {
      this.seen = toCsr(train, 'byUser');
      const n = this.nItems;
      const P = gramOf(this.seen, n);
      for (let i = 0; i < n; i++) P[i * n + i] += this.config.lambda;
      let rows = 0;
      await invertSpdInPlace(P, n, async () => {
        // Cancellation is checked every 64 rows; the thread has nothing else to serve.
        if (++rows % 64 === 0) throwIfAborted(options.signal);
      });
      this.B = weightsFromInverse(P, n);
      this.neighbours = largestPerRow(this.B, n, SIMILAR_KEPT);
    });
  }

  /** Scores of every item for a user given by the items they interacted with (exact for anyone). */
  scoresFor(items: ArrayLike<number>): Float32Array {
    const n = this.nItems;
    const out = new Float32Array(n);
    const distinct = new Set<number>();
    for (let k = 0; k < items.length; k++) distinct.add(items[k]);
    for (const i of distinct) {
      const row = this.B.subarray(i * n, (i + 1) * n);
      for (let j = 0; j < n; j++) out[j] += row[j];
    }
    return out;
  }

  scorePairs(users: Int32Array, items: Int32Array): Float32Array {
    const out = new Float32Array(users.length);
    const n = this.nItems;
    const { indptr, indices } = this.seen;
    for (let k = 0; k < users.length; k++) {
      let s = 0;
      for (let p = indptr[users[k]]; p < indptr[users[k] + 1]; p++) s += this.B[indices[p] * n + items[k]];
      out[k] = s;
    }
    return out;
  }

  contribution(from: number, to: number): number {
    return this.B[from * this.nItems + to];
  }

  /** Each item's items with the largest weights in its row of B (similar items). */
  neighbourLists(): Csr {
    return this.neighbours;
  }

  embeddings(): ServingEmbeddings {
    return { kind: 'item-item', exact: true, user: null, item: { rows: this.nItems, cols: 0, data: new Float32Array(0) } };
  }

  getState(): ModelState {
    return { arrays: { B: this.B, ...csrToArrays('seen', this.seen), ...csrToArrays('nn', this.neighbours) }, meta: {} };
  }

  setState(state: ModelState): void {
    const B = state.arrays.B;
    if (!(B instanceof Float32Array) || B.length !== this.nItems * this.nItems) throw new Error('model state: B is not items × items');
    this.B = B;
    this.seen = arraysToCsr(state, 'seen', this.nUsers, this.nItems);
    this.neighbours = arraysToCsr(state, 'nn', this.nItems, this.nItems);
  }
}

/** XᵀX of the binary user × item matrix: co-occurrence counts, dense n × n (Float64). */
function gramOf(byUser: Csr, n: number): Float64Array {
  const G = new Float64Array(n * n);
  const { indptr, indices } = byUser;
  for (let u = 0; u < byUser.rows; u++) {
    for (let p = indptr[u]; p < indptr[u + 1]; p++) {
      const a = indices[p];
      if (p > indptr[u] && indices[p - 1] === a) continue; // a repeated pair counts once
      for (let q = indptr[u]; q < indptr[u + 1]; q++) {
        if (q > indptr[u] && indices[q - 1] === indices[q]) continue;
        G[a * n + indices[q]] += 1;
      }
    }
  }
  return G;
}

/** B = I − P·diag(1/diag(P)), i.e. B[i][j] = −P[i][j] / P[j][j] off the diagonal and 0 on it. */
function weightsFromInverse(P: Float64Array, n: number): Float32Array {
  const B = new Float32Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) B[i * n + j] = i === j ? 0 : -P[i * n + j] / P[j * n + j];
  return B;
}

function largestPerRow(B: Float32Array, n: number, k: number): Csr {
  const keep = Math.min(k, n - 1);
  const indptr = new Int32Array(n + 1);
  const indices = new Int32Array(n * keep);
  const values = new Float32Array(n * keep);
  for (let i = 0; i < n; i++) {
    const row = B.subarray(i * n, (i + 1) * n);
    const top = Array.from({ length: n }, (_, j) => j)
      .filter((j) => j !== i).sort((a, b) => row[b] - row[a] || a - b).slice(0, keep).sort((a, b) => a - b);
    top.forEach((j, r) => {
      indices[i * keep + r] = j;
      values[i * keep + r] = row[j];
    });
    indptr[i + 1] = indptr[i] + top.length;
  }
  return { rows: n, cols: n, indptr, indices, values };
}
