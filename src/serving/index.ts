import type { Csr } from '../data/interactions.js';
import { isItemBased, type RecModel } from '../models/model.js';
import { AnnIndex } from './ann.js';
import { gramInSlices } from './fold-in.js';
import { copyOfRows, MatrixScorer, unitRows } from './kernels/dot.js';
import type { SnapshotArtifacts } from './artifacts.js';
import type { ColdItems } from './cold-items.js';
import type { LoadedSnapshot } from './snapshots.js';
import { topN, type Scored } from './top-n.js';
import { yieldToEventLoop } from '../scheduling/yield.js';
import { positionsInSlices, scaledRowsInSlices } from './slices.js';
import { NO_RETRIEVAL, type Retrieval } from './retrieval.js';

/** Bytes the neighbour lists of a large catalogue may take (8 per entry): 50 neighbours up to 160,000 items, fewer above, none below 10. */
const NEIGHBOUR_LIST_BYTES = 64 * 2 ** 20;

/** Neighbours per item a catalogue of `n` items can keep within NEIGHBOUR_LIST_BYTES (0: too few to be worth it). */
export function neighboursWithinBudget(n: number): number {
  const k = Math.min(50, Math.floor(NEIGHBOUR_LIST_BYTES / (8 * n)));
  return k >= 10 ? k : 0;
}

/** Catalogues up to this size get every item's similar items precomputed at load. */
export const PRECOMPUTE_SIMILAR_MAX_ITEMS = 5000;
export const PRECOMPUTED_NEIGHBOURS = 100;
/** Candidates taken from the dot-product part before reranking with the full model (NeuMF, EINMF). */
export const RERANK_CANDIDATES = 200;


export interface ServingIndexOptions {
  /** Catalogues with at least this many items get approximate retrieval (0 = never). */
  annMinItems: number;
}

/** Candidates asked of the ANN index for a top-n: enough to survive filtering most of the time. */
const annCandidates = (n: number): number => 2 * n + 100;

/**
 * A snapshot prepared for serving: id maps, item vectors in one contiguous Float32Array
 * (pre-normalised copy for cosine), per-model scoring of one user against all items, and
 * precomputed similar-item lists for small catalogues. Immutable once built; a model swap
 * replaces the whole index.
 */
export class ServingIndex {
  readonly model: RecModel;
  readonly modelName: string;
  readonly version: string;
  readonly itemIds: readonly string[];
  readonly userIds: readonly string[];
  readonly itemIndex: Map<string, number>;
  readonly userIndex: Map<string, number>;
  readonly nItems: number;
  readonly dims: number;
  /** Item vectors as scored against user vectors. */
  readonly itemVectors: Float32Array;
  /** Unit-length item vectors for cosine similarity (null when the model has none). */
  readonly itemUnit: Float32Array | null;
  readonly userVectors: Float32Array | null;
  readonly itemBias: Float32Array | null;
  readonly kind: LoadedSnapshot['embeddings']['kind'];
  readonly exact: boolean;
  readonly popularity: Float32Array;
  private gram: Float64Array | null = null;
  readonly metrics: LoadedSnapshot['manifest']['metrics'];
  /**
   * The retrain job's artifacts for the pipeline (recent items per user, co-occurrence, score
   * references, ranker). Set from the snapshot; only the job's in-memory indexes replace it.
   */
  artifacts: SnapshotArtifacts;
  /** Items newer than the snapshot with vectors from their features (hybrid models; set by the pipeline's keeper). */
  cold: ColdItems | null = null;
  /** Newest ingest (epoch ms) in the snapshot's training data; user records created later are not in it. */
  readonly dataUntil: number;
  /** user → all items; unit item → all items (the same scorer when the model is cosine already). */
  private readonly itemScorer: MatrixScorer | null;
  private readonly unitScorer: MatrixScorer | null;
  private similar: Csr | null = null;
  /** `similar` when the cosine ANN index found it (what a snapshot saves with its indexes). */
  private annLists: Csr | null = null;
  /** An item-based model's own neighbour lists with each row scaled to its largest weight (the item-to-item source's scale). */
  private scaledLists: Csr | null = null;
  /** Neighbours kept per item in `similar` (a shorter row is that item's complete list). */
  private listWidth = PRECOMPUTED_NEIGHBOURS;
  /** Approximate retrieval for large catalogues: by score (user vectors), by cosine (similar items). */
  private ann: AnnIndex | null = null;
  private annUnit: AnnIndex | null = null;
  /** Unit user vectors (cosine between users) as their SIMD scorer holds them, and their ANN index for many users. */
  private readonly userUnit: Float32Array | null;
  private readonly userScorer: MatrixScorer | null;
  private annUsers: AnnIndex | null = null;

  private constructor(snapshot: LoadedSnapshot, prepared: Prepared) {
    const e = snapshot.embeddings;
    this.model = snapshot.model;
    this.modelName = snapshot.manifest.model;
    this.version = snapshot.manifest.version;
    this.metrics = snapshot.manifest.metrics;
    this.artifacts = snapshot.artifacts;
    this.dataUntil = snapshot.manifest.watermark.lastIngestAt ?? Number.POSITIVE_INFINITY;
    this.itemIds = snapshot.itemIds;
    this.userIds = snapshot.userIds;
    this.itemIndex = prepared.itemIndex;
    this.userIndex = prepared.userIndex;
    this.nItems = snapshot.itemIds.length;
    this.dims = e.item.cols;
    this.kind = e.kind;
    this.exact = e.exact;
    this.popularity = snapshot.popularity;
    this.itemBias = e.itemBias ?? null;
    this.userVectors = e.user?.data ?? null;
    // Each matrix is kept as its scorer holds it (see MatrixScorer.rowsView): one copy, not two.
    this.unitScorer = prepared.unitScorer;
    this.itemUnit = this.unitScorer?.rowsView ?? null;
    this.itemScorer = prepared.itemScorer;
    this.itemVectors = this.itemScorer?.rowsView ?? e.item.data;
    this.userScorer = prepared.userScorer;
    this.userUnit = this.userScorer?.rowsView ?? null;
    if (isItemBased(this.model)) this.similar = this.model.neighbourLists();
  }

  static async build(snapshot: LoadedSnapshot, options: ServingIndexOptions = { annMinItems: 0 }): Promise<ServingIndex> {
    // The O(catalogue + users) preparation runs in slices: a 1M-item load must not stall requests.
    const e = snapshot.embeddings;
    const [n, d] = [snapshot.itemIds.length, e.item.cols];
    const unitScorer = d > 0 ? await MatrixScorer.fromRows(n, d, unitRows(e.item.data, d)) : null;
    // DMF scores by cosine: against unit item vectors, user·item ranks exactly as the cosine.
    const itemScorer = d === 0 ? null : e.kind === 'cosine' ? unitScorer : await MatrixScorer.fromRows(n, d, copyOfRows(e.item.data, d));
    const prepared: Prepared = {
      itemIndex: await positionsInSlices(snapshot.itemIds),
      userIndex: await positionsInSlices(snapshot.userIds),
      unitScorer,
      itemScorer,
      userScorer: e.user && d > 0 ? await MatrixScorer.fromRows(snapshot.userIds.length, d, unitRows(e.user.data, d)) : null,
    };
    const index = new ServingIndex(snapshot, prepared);
    if (index.dims > 0) index.gram = snapshot.itemGram ?? (await gramInSlices(index.itemVectors, index.nItems, index.dims));
    if (!index.similar && index.itemUnit && index.nItems <= PRECOMPUTE_SIMILAR_MAX_ITEMS) await index.precomputeSimilar();
    if (isItemBased(index.model)) index.scaledLists = await scaledRowsInSlices(index.model.neighbourLists());
    const prebuilt = snapshot.retrieval ?? NO_RETRIEVAL;
    const wanted = (rows: number): boolean => options.annMinItems > 0 && rows >= options.annMinItems && index.dims > 0;
    if (wanted(index.nItems)) {
      if (prebuilt.ann) index.adopt(prebuilt);
      else await index.buildAnn();
    }
    if (index.userUnit && wanted(index.userIds.length)) index.annUsers = prebuilt.annUsers ?? (await AnnIndex.build(index.userUnit, index.userIds.length, index.dims, null));
    return index;
  }

  /** The approximate-retrieval structures this index holds, for a snapshot to save. */
  get retrieval(): Retrieval {
    return { ann: this.ann, annUnit: this.annUnit, annUsers: this.annUsers, similar: this.annLists, similarWidth: this.annLists ? this.listWidth : 0 };
  }

  /** Takes the indexes (and lists) a training job saved with the snapshot instead of building them. */
  private adopt(prebuilt: Retrieval): void {
    this.ann = prebuilt.ann;
    this.annUnit = prebuilt.annUnit;
    if (!this.similar && prebuilt.similar) {
      this.similar = this.annLists = prebuilt.similar;
      this.listWidth = prebuilt.similarWidth;
    }
  }

  /**
   * Both HNSW indexes, each built in a thread. The cosine one also finds every item's nearest
   * items there (what small catalogues precompute here), when the lists fit NEIGHBOUR_LIST_BYTES.
   */
  private async buildAnn(): Promise<void> {
    const bias = this.dotBias;
    const k = this.similar ? 0 : neighboursWithinBudget(this.nItems);
    if (this.itemVectors === this.itemUnit && !bias) {
      const built = await AnnIndex.buildWithNeighbours(this.itemVectors, this.nItems, this.dims, null, k);
      this.ann = this.annUnit = built.index;
      this.setLists(built.lists);
      return;
    }
    this.ann = await AnnIndex.build(this.itemVectors, this.nItems, this.dims, bias);
    const unit = await AnnIndex.buildWithNeighbours(this.itemUnit!, this.nItems, this.dims, null, k);
    this.annUnit = unit.index;
    this.setLists(unit.lists);
  }

  private setLists(lists: { indptr: Int32Array; indices: Int32Array; values: Float32Array } | null): void {
    if (!lists) return;
    this.similar = this.annLists = { rows: this.nItems, cols: this.nItems, ...lists };
    this.listWidth = neighboursWithinBudget(this.nItems);
  }

  /** The item bias added to dot-product scores (only dot models score with it). */
  private get dotBias(): Float32Array | null {
    return this.kind === 'dot' ? this.itemBias : null;
  }

  /** Whether top-N runs on approximate retrieval (large catalogues). */
  get approximate(): boolean {
    return this.ann !== null;
  }

  /** Exact score (dot plus bias) of row i of `vectors` for a vector. */
  private score(vectors: Float32Array, bias: Float32Array | null, v: Float32Array, i: number): number {
    const d = this.dims;
    let s = bias ? bias[i] : 0;
    for (let f = 0; f < d; f++) s += vectors[i * d + f] * v[f];
    return s;
  }

  /**
   * Top-n through the ANN index: candidates are filtered and scored exactly; when filters leave
   * fewer than n, a wider search is tried, and null sends the caller to the exact scan.
   */
  private annTop(ann: AnnIndex, vectors: Float32Array, bias: Float32Array | null, v: Float32Array, n: number, skip: (i: number) => boolean): Scored[] | null {
    for (const k of [annCandidates(n), 8 * annCandidates(n)]) {
      const found = ann.search(v, k);
      const kept = found.filter((i) => !skip(i));
      if (kept.length >= n || found.length >= this.nItems) {
        const scores = new Float32Array(kept.length);
        for (let c = 0; c < kept.length; c++) scores[c] = this.score(vectors, bias, v, kept[c]);
        return topN(scores, n).map((s) => ({ item: kept[s.item], score: s.score }));
      }
    }
    return null;
  }

  /** Scores (dot plus item bias) of the given items for a vector in this index's user space. */
  scoreVectorAt(v: Float32Array, items: ArrayLike<number>): Float32Array {
    const out = new Float32Array(items.length);
    const bias = this.dotBias;
    for (let k = 0; k < items.length; k++) out[k] = this.score(this.itemVectors, bias, v, items[k]);
    return out;
  }

  /** Top-n items for a vector in this index's user space (fold-in users): approximate when large. */
  topForVector(v: Float32Array, n: number, skip: (i: number) => boolean): Scored[] {
    const approx = this.ann ? this.annTop(this.ann, this.itemVectors, this.dotBias, v, n, skip) : null;
    return approx ?? topN(this.scoreVector(v, true), n, skip);
  }

  /** QᵀQ for fold-in of users the snapshot does not know (dot/cosine models); set by build(). */
  get itemGram(): Float64Array | null {
    return this.gram;
  }

  /** Scores of every item for a user vector (dot product plus item bias). */
  scoreVector(user: Float32Array, view = false): Float32Array {
    const out = this.itemScorer ? (view ? this.itemScorer.scoresView(user) : this.itemScorer.scores(user)) : new Float32Array(this.nItems);
    const bias = this.dotBias;
    if (bias) for (let i = 0; i < this.nItems; i++) out[i] += bias[i];
    return out;
  }

  userVector(u: number): Float32Array | null {
    if (!this.userVectors || this.dims === 0) return null;
    return this.userVectors.subarray(u * this.dims, (u + 1) * this.dims);
  }

  /** Scores of every item for a user known to the snapshot, as the model ranks them. */
  scoreUser(u: number): Float32Array {
    const v = this.userVector(u);
    if (v) return this.scoreVector(v);
    if (this.kind === 'popularity') return this.popularity;
    const items = Int32Array.from({ length: this.nItems }, (_, i) => i);
    return this.model.scorePairs(new Int32Array(this.nItems).fill(u), items);
  }

  /**
   * Top-n for a known user. Exact models rank all items directly; for NeuMF/EINMF the dot
   * product part proposes {@link RERANK_CANDIDATES} candidates and the full model reranks them.
   */
  recommend(u: number, n: number, skip: (item: number) => boolean): Scored[] {
    const v = this.userVector(u);
    if (!v) return topN(this.scoreUser(u), n, skip);
    if (this.exact) return this.topForVector(v, n, skip);
    const candidates = this.topForVector(v, Math.max(RERANK_CANDIDATES, n), skip);
    const items = Int32Array.from(candidates, (c) => c.item);
    const exact = this.model.scorePairs(new Int32Array(items.length).fill(u), items);
    return topN(exact, n)
      .map((s) => ({ item: items[s.item], score: s.score }))
      .sort((a, b) => b.score - a.score || a.item - b.item);
  }

  /** Items most similar to item i (cosine over item vectors, or an item-based model's neighbour lists). */
  similarTo(i: number, n: number, skip: (item: number) => boolean): Scored[] {
    const lists = this.similar;
    if (lists) {
      const scores = new Float32Array(this.nItems).fill(-Infinity);
      const from = lists.indptr[i];
      const to = lists.indptr[i + 1];
      const candidates = lists.indices.subarray(from, to);
      for (let p = from; p < to; p++) scores[lists.indices[p]] = lists.values[p];
      const found = topN(scores, n, (j) => j === i || skip(j), candidates);
      // Precomputed lists hold each item's top `listWidth`: a heavily filtered request may need more.
      if (found.length >= n || !this.itemUnit || to - from < this.listWidth) return found;
    }
    if (!this.itemUnit) return [];
    const d = this.dims;
    const skipSelf = (j: number): boolean => j === i || skip(j);
    const approx = this.annUnit ? this.annTop(this.annUnit, this.itemUnit, null, this.itemUnit.subarray(i * d, (i + 1) * d), n, skipSelf) : null;
    return approx ?? topN(this.cosineTo(i), n, skipSelf);
  }

  /**
   * Each item's nearest items as the item-to-item source reads them, columns ascending: an
   * item-based model's own lists with rows scaled to [0, 1], or a vector model's cosine lists
   * (precomputed for small catalogues, found by the ANN thread for large ones); null otherwise.
   */
  get neighbourLists(): Csr | null {
    return isItemBased(this.model) ? this.scaledLists : this.similar;
  }

  /** Items closest (cosine) to a unit vector in the item space: approximate when large. */
  similarToVector(unit: Float32Array, n: number, skip: (item: number) => boolean): Scored[] {
    if (!this.itemUnit || !this.unitScorer) return [];
    const approx = this.annUnit ? this.annTop(this.annUnit, this.itemUnit, null, unit, n, skip) : null;
    return approx ?? topN(this.unitScorer.scoresView(unit), n, skip);
  }

  private cosineTo(i: number): Float32Array {
    const d = this.dims;
    return this.unitScorer!.scores(this.itemUnit!.subarray(i * d, (i + 1) * d));
  }

  /**
   * Users whose vectors are closest (cosine) to user u's; null when the model has no user
   * vectors (item-based models). Exact below ANN_MIN_ITEMS users, approximate above.
   */
  similarUsers(u: number, n: number): Scored[] | null {
    const unit = this.userUnit;
    if (!unit) return null;
    const d = this.dims;
    return this.usersClosestTo(unit.subarray(u * d, (u + 1) * d), n, u);
  }

  /** Users closest (cosine) to a vector in the user space, trained or folded in; null without user vectors. */
  similarUsersTo(v: Float32Array, n: number): Scored[] | null {
    if (!this.userUnit) return null;
    let norm = 0;
    for (let f = 0; f < v.length; f++) norm += v[f] * v[f];
    if (norm === 0) return [];
    const unitV = Float32Array.from(v, (x) => x / Math.sqrt(norm));
    return this.usersClosestTo(unitV, n, -1);
  }

  private usersClosestTo(v: Float32Array, n: number, u: number): Scored[] {
    const unit = this.userUnit!;
    const skip = (w: number): boolean => w === u;
    if (this.annUsers) {
      const found = this.annUsers.search(v, n + 1).filter((w) => !skip(w));
      return Array.from(found.slice(0, n), (w) => ({ item: w, score: this.score(unit, null, v, w) }));
    }
    return topN(this.userScorer!.scoresView(v), n, skip);
  }

  /** Every item's top similar items, in slices so a model load never stalls request handling. */
  private async precomputeSimilar(): Promise<void> {
    const n = this.nItems;
    const k = Math.min(PRECOMPUTED_NEIGHBOURS, n - 1);
    const indptr = new Int32Array(n + 1);
    const indices = new Int32Array(n * k);
    const values = new Float32Array(n * k);
    for (let i = 0; i < n; i++) {
      const top = topN(this.cosineTo(i), k, (j) => j === i).sort((a, b) => a.item - b.item);
      top.forEach((s, r) => {
        indices[i * k + r] = s.item;
        values[i * k + r] = s.score;
      });
      indptr[i + 1] = indptr[i] + top.length;
      if (i % 64 === 63) await yieldToEventLoop();
    }
    this.similar = { rows: n, cols: n, indptr, indices: indices.subarray(0, indptr[n]), values: values.subarray(0, indptr[n]) };
  }
}

/** What build() computes in slices before the index exists. */
interface Prepared {
  itemIndex: Map<string, number>;
  userIndex: Map<string, number>;
  unitScorer: MatrixScorer | null;
  itemScorer: MatrixScorer | null;
  userScorer: MatrixScorer | null;
}
