import type { Csr } from '../data/interactions.js';

/**
 * What a retrain job adds to a snapshot beside the model, for the recommendation pipeline: built
 * where the data is (the job), read by serving, never computed on a request.
 */
export interface SnapshotArtifacts {
  /** Row u: trained user u's most recent positive items (dense ids), most recent first. */
  recent: Csr | null;
  /** Row i: the items sharing the most users with item i (cosine over user sets), best first. */
  cooccurrence: Csr | null;
  /**
   * The model's typical best score for a trained user (the median over a sample of users of their
   * top item's score), in the serving space; `dot` the same for the dot-product part of a model
   * that reranks (what a fold-in of such a model scores). Sources divide by it, so a floor reads the
   * same for every model type.
   */
  reference: { model: number; dot: number | null } | null;
  /** The learned ranker the job fit and kept, as its own JSON state; null when none was kept. */
  ranker: Record<string, unknown> | null;
}

export const NO_ARTIFACTS: SnapshotArtifacts = { recent: null, cooccurrence: null, reference: null, ranker: null };

/** Files and manifest metadata, as snapshots store them. */
export interface EncodedArtifacts {
  files: Record<string, Uint8Array>;
  meta: Record<string, unknown>;
}

const HEADER_INTS = 3;

/** [rows, cols, nnz] then indptr, indices (int32) and values (float32), little-endian as the platform writes typed arrays. */
export function encodeCsr(m: Csr): Uint8Array {
  const nnz = m.indices.length;
  const buf = new ArrayBuffer(4 * (HEADER_INTS + m.rows + 1 + 2 * nnz));
  const ints = new Int32Array(buf, 0, HEADER_INTS + m.rows + 1 + nnz);
  ints.set([m.rows, m.cols, nnz]);
  ints.set(m.indptr, HEADER_INTS);
  ints.set(m.indices, HEADER_INTS + m.rows + 1);
  new Float32Array(buf, 4 * (HEADER_INTS + m.rows + 1 + nnz), nnz).set(m.values);
  return new Uint8Array(buf);
}

export function decodeCsr(bytes: Uint8Array): Csr {
  // Views of the bytes where their alignment allows (a file's buffer): a copy of 50M entries is a stall.
  const copy = bytes.byteOffset % 4 === 0 ? bytes : new Uint8Array(bytes);
  const head = new Int32Array(copy.buffer, copy.byteOffset, HEADER_INTS);
  const [rows, cols, nnz] = head;
  const expected = 4 * (HEADER_INTS + rows + 1 + 2 * nnz);
  if (rows < 0 || nnz < 0 || copy.byteLength !== expected) throw new Error(`a CSR file of ${copy.byteLength} bytes does not hold ${rows} rows and ${nnz} entries`);
  const at = (ints: number): number => copy.byteOffset + 4 * ints;
  const indptr = new Int32Array(copy.buffer, at(HEADER_INTS), rows + 1);
  const indices = new Int32Array(copy.buffer, at(HEADER_INTS + rows + 1), nnz);
  const values = new Float32Array(copy.buffer, at(HEADER_INTS + rows + 1 + nnz), nnz);
  if (indptr[0] !== 0 || indptr[rows] !== nnz) throw new Error('a CSR file with inconsistent row pointers');
  return { rows, cols, indptr, indices, values };
}

export function encodeArtifacts(a: SnapshotArtifacts): EncodedArtifacts {
  const files: Record<string, Uint8Array> = {};
  if (a.recent) files['recent.csr'] = encodeCsr(a.recent);
  if (a.cooccurrence) files['cooccurrence.csr'] = encodeCsr(a.cooccurrence);
  return { files, meta: { reference: a.reference, ranker: a.ranker } };
}

export function decodeArtifacts(e: EncodedArtifacts | null): SnapshotArtifacts {
  if (!e) return NO_ARTIFACTS;
  const reference = (e.meta.reference ?? null) as SnapshotArtifacts['reference'];
  const ranker = (e.meta.ranker ?? null) as SnapshotArtifacts['ranker'];
  return {
    recent: e.files['recent.csr'] ? decodeCsr(e.files['recent.csr']) : null,
    cooccurrence: e.files['cooccurrence.csr'] ? decodeCsr(e.files['cooccurrence.csr']) : null,
    reference,
    ranker,
  };
}
