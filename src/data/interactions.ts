/**
 * The training data every model sees: one row per (user, item) pair with dense 0-based ids,
 * the pair's explicit rating (NaN when there is none) and its summed implicit event weight.
 */
export interface Interactions {
  /** External id of each dense user id. */
  readonly userIds: readonly string[];
  /** External id of each dense item id. */
  readonly itemIds: readonly string[];
  readonly user: Int32Array;
  readonly item: Int32Array;
  /** Explicit rating of the pair, NaN when the pair has only implicit events. */
  readonly rating: Float32Array;
  /** Summed event weight of the pair (0 when it has only a rating). */
  readonly implicit: Float32Array;
  /** Latest timestamp (ms since the epoch) of the pair's rating or events. */
  readonly ts: Float64Array;
  /** Top of the rating scale: explicit targets are rating / ratingMax. */
  readonly ratingMax: number;
  /** Content features of each dense item (the catalogue's categories and labels), when known. */
  readonly itemFeatures?: FeatureMatrix;
  /** Content features of each dense user (their labels), when known. */
  readonly userFeatures?: FeatureMatrix;
}

/**
 * Row r: the content features of entity r as column indices into `vocabulary` with weights;
 * columns ascending within a row.
 */
export interface FeatureMatrix {
  readonly rows: number;
  readonly indptr: Int32Array;
  readonly indices: Int32Array;
  readonly values: Float32Array;
  /** Feature names by column (`cat:drama`, `brand=acme`, `title~123`, `price#`). */
  readonly vocabulary: readonly string[];
}

export const nUsers = (d: Interactions): number => d.userIds.length;
export const nItems = (d: Interactions): number => d.itemIds.length;
export const nPairs = (d: Interactions): number => d.user.length;

/**
 * How strongly pair k says "the user likes this", on the rating scale: the rating when there is
 * one, else the summed event weight (event weights are on the rating scale: a purchase is
 * worth 4, a view 0.5) capped at the top of the scale, DMF §3.1's Y for implicit feedback.
 */
export function strength(d: Interactions, k: number): number {
  const r = d.rating[k];
  if (!Number.isNaN(r)) return r;
  return Math.min(d.ratingMax, Math.max(d.implicit[k], 0));
}

/** One observation before merging: a rating, an event weight, or both. */
export interface RawInteraction {
  user: string;
  item: string;
  rating?: number;
  weight?: number;
  ts: number;
}

interface PairAcc {
  rating: number;
  ratingTs: number;
  implicit: number;
  ts: number;
}

/**
 * Accumulates observations with dense id maps; several observations of one pair merge (the later
 * rating wins, event weights add up), so a file with repeated pairs still gives one row per pair.
 */
export class InteractionsBuilder {
  private readonly userIndex = new Map<string, number>();
  private readonly itemIndex = new Map<string, number>();
  private readonly userIds: string[] = [];
  private readonly itemIds: string[] = [];
  private readonly pairs = new Map<number, PairAcc>();
  private readonly pairsByUser: Map<number, PairAcc>[] = [];

  /** Registers a user so it keeps a dense id even without interactions. */
  userId(external: string): number {
    let id = this.userIndex.get(external);
    if (id === undefined) {
      id = this.userIds.length;
      this.userIndex.set(external, id);
      this.userIds.push(external);
      this.pairsByUser.push(new Map());
    }
    return id;
  }

  itemId(external: string): number {
    let id = this.itemIndex.get(external);
    if (id === undefined) {
      id = this.itemIds.length;
      this.itemIndex.set(external, id);
      this.itemIds.push(external);
    }
    return id;
  }

  add(obs: RawInteraction): void {
    const u = this.userId(obs.user);
    const i = this.itemId(obs.item);
    const row = this.pairsByUser[u];
    let acc = row.get(i);
    if (!acc) {
      acc = { rating: NaN, ratingTs: -Infinity, implicit: 0, ts: -Infinity };
      row.set(i, acc);
    }
    if (obs.rating !== undefined && Number.isFinite(obs.rating) && obs.ts >= acc.ratingTs) {
      acc.rating = obs.rating;
      acc.ratingTs = obs.ts;
    }
    if (obs.weight !== undefined && Number.isFinite(obs.weight)) acc.implicit += obs.weight;
    if (obs.ts > acc.ts) acc.ts = obs.ts;
  }

  get size(): number {
    let n = 0;
    for (const row of this.pairsByUser) n += row.size;
    return n;
  }

  /** Pairs ordered by user, then item (stable input for seeded training). */
  build(ratingMax: number): Interactions {
    const n = this.size;
    const user = new Int32Array(n);
    const item = new Int32Array(n);
    const rating = new Float32Array(n);
    const implicit = new Float32Array(n);
    const ts = new Float64Array(n);
    let k = 0;
    this.pairsByUser.forEach((row, u) => {
      const items = [...row.keys()].sort((a, b) => a - b);
      for (const i of items) {
        const acc = row.get(i)!;
        user[k] = u;
        item[k] = i;
        rating[k] = acc.rating;
        implicit[k] = acc.implicit;
        ts[k] = Number.isFinite(acc.ts) ? acc.ts : 0;
        k++;
      }
    });
    return { userIds: [...this.userIds], itemIds: [...this.itemIds], user, item, rating, implicit, ts, ratingMax };
  }
}

export function buildInteractions(rows: Iterable<RawInteraction>, ratingMax: number): Interactions {
  const b = new InteractionsBuilder();
  for (const r of rows) b.add(r);
  return b.build(ratingMax);
}

/** The rows at `indices`, same id maps. */
export function subset(d: Interactions, indices: ArrayLike<number>): Interactions {
  const n = indices.length;
  const pick = <T extends Int32Array | Float32Array | Float64Array>(src: T, out: T): T => {
    for (let k = 0; k < n; k++) out[k] = src[indices[k]];
    return out;
  };
  return {
    userIds: d.userIds,
    itemIds: d.itemIds,
    ratingMax: d.ratingMax,
    user: pick(d.user, new Int32Array(n)),
    item: pick(d.item, new Int32Array(n)),
    rating: pick(d.rating, new Float32Array(n)),
    implicit: pick(d.implicit, new Float32Array(n)),
    ts: pick(d.ts, new Float64Array(n)),
    ...(d.itemFeatures ? { itemFeatures: d.itemFeatures } : {}),
    ...(d.userFeatures ? { userFeatures: d.userFeatures } : {}),
  };
}

/** Compressed sparse rows; column indices sorted within each row. */
export interface Csr {
  rows: number;
  cols: number;
  indptr: Int32Array;
  indices: Int32Array;
  values: Float32Array;
}

/**
 * The interaction matrix Y by user (row u = items of user u) or by item (row i = users of item i),
 * with {@link strength} as values. Never dense: a large catalogue stays O(pairs).
 */
export function toCsr(d: Interactions, orientation: 'byUser' | 'byItem'): Csr {
  const byUser = orientation === 'byUser';
  const rows = byUser ? nUsers(d) : nItems(d);
  const cols = byUser ? nItems(d) : nUsers(d);
  const rowOf = byUser ? d.user : d.item;
  const colOf = byUser ? d.item : d.user;
  const n = rowOf.length;
  const indptr = new Int32Array(rows + 1);
  for (let k = 0; k < n; k++) indptr[rowOf[k] + 1]++;
  for (let r = 0; r < rows; r++) indptr[r + 1] += indptr[r];
  const fill = indptr.slice(0, rows);
  const order = new Int32Array(n);
  for (let k = 0; k < n; k++) order[fill[rowOf[k]]++] = k;
  const indices = new Int32Array(n);
  const values = new Float32Array(n);
  for (let r = 0; r < rows; r++) {
    const slice = Array.from(order.subarray(indptr[r], indptr[r + 1])).sort((a, b) => colOf[a] - colOf[b]);
    slice.forEach((k, j) => {
      indices[indptr[r] + j] = colOf[k];
      values[indptr[r] + j] = strength(d, k);
    });
  }
  return { rows, cols, indptr, indices, values };
}

/** A rows × cols matrix with no entries. */
export function emptyCsr(rows: number, cols: number): Csr {
  return { rows, cols, indptr: new Int32Array(rows + 1), indices: new Int32Array(0), values: new Float32Array(0) };
}

/** Whether row r has column c (binary search in the sorted row). */
export function csrHas(m: Csr, r: number, c: number): boolean {
  let lo = m.indptr[r];
  let hi = m.indptr[r + 1] - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const v = m.indices[mid];
    if (v === c) return true;
    if (v < c) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}

export function csrRowLength(m: Csr, r: number): number {
  return m.indptr[r + 1] - m.indptr[r];
}
