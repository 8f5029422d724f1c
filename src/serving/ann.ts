import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import type { Index } from 'usearch';
import { siblingModule, spawnThread } from '../threads/spawn.js';
import { yieldToEventLoop } from '../scheduling/yield.js';
import { searchShards, shardFile, shardRanges } from './ann-shards.js';

/**
 * HNSW settings, measured on 100,000 × 64 item vectors with a decaying spectrum: connectivity 16,
 * expansion 64 when adding and 128 when searching gave recall@10 0.96–0.98 (bench/ann.ts) and a
 * 6 s build on 2 threads; search expansion 64 gave 0.959.
 */
export const ANN_SETTINGS = { connectivity: 16, expansionAdd: 64, expansionSearch: 128 } as const;

/** What the build thread needs: the item matrix (and bias column) to index. */
export interface AnnBuildInput {
  vectors: Float32Array;
  rows: number;
  dims: number;
  bias: Float32Array | null;
  /** Where the shards go: `<file>.0`, `<file>.1`, … */
  file: string;
  /** Also find each row's this many nearest rows (cosine; unit vectors without bias only), 0 = none. */
  neighbours?: number;
}

/** Each row's nearest rows, best first, with their exact cosines (the thread's answer). */
export interface NeighbourLists {
  indptr: Int32Array;
  indices: Int32Array;
  values: Float32Array;
}

/** Queries per batch of the neighbour search: bounds the thread's result buffers. */
const NEIGHBOUR_BATCH = 8192;

const THREAD_MODULE = siblingModule(import.meta.url, 'ann-thread');

// usearch's ESM entry never finishes loading inside a worker thread (measured: a bare
// `import('usearch')` in a worker hangs), its CommonJS entry does; so it is required.
const usearch = createRequire(import.meta.url)('usearch') as typeof import('usearch');

function newIndex(dims: number): Index {
  return new usearch.Index({
    dimensions: dims,
    metric: usearch.MetricKind.L2sq,
    quantization: usearch.ScalarKind.F32,
    connectivity: ANN_SETTINGS.connectivity,
    expansion_add: ANN_SETTINGS.expansionAdd,
    expansion_search: ANN_SETTINGS.expansionSearch,
    multi: false,
  });
}

/**
 * Maximum inner product search as nearest neighbours (Bachrach et al. 2014): each item becomes
 * [x, b, √(M − ‖[x, b]‖²)] with M the largest squared norm, each query [u, 1, 0]; then the
 * smallest L2 distance is the largest u·x + b. The bias column exists only when there is a bias.
 */
export function augmentItems(input: Omit<AnnBuildInput, 'file'>): { data: Float32Array; dims: number } {
  const { vectors, rows, dims, bias } = input;
  const extra = bias ? 2 : 1;
  const D = dims + extra;
  const data = new Float32Array(rows * D);
  const norms = new Float64Array(rows);
  let max = 0;
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let f = 0; f < dims; f++) {
      const v = vectors[r * dims + f];
      data[r * D + f] = v;
      s += v * v;
    }
    if (bias) {
      data[r * D + dims] = bias[r];
      s += bias[r] * bias[r];
    }
    norms[r] = s;
    if (s > max) max = s;
  }
  for (let r = 0; r < rows; r++) data[r * D + D - 1] = Math.sqrt(Math.max(0, max - norms[r]));
  return { data, dims: D };
}

/** Builds and saves the index shards (runs inside the build thread); with `neighbours`, also every row's nearest rows. */
export function buildAnnFile(input: AnnBuildInput, threads: number): NeighbourLists | null {
  const { data, dims } = augmentItems(input);
  const shards = shardRanges(input.rows).map(([from, to], s) => {
    const index = newIndex(dims);
    index.add(BigUint64Array.from({ length: to - from }, (_, i) => BigInt(from + i)), data.subarray(from * dims, to * dims), threads);
    index.save(shardFile(input.file, s));
    return index;
  });
  return input.neighbours ? nearestRows(shards, data, dims, input, threads) : null;
}

/** Each row searched against the index in batches; the row itself dropped, cosines recomputed exactly. */
function nearestRows(shards: Index[], data: Float32Array, D: number, input: AnnBuildInput, threads: number): NeighbourLists {
  const k = input.neighbours!;
  const { rows, dims, vectors } = input;
  const indptr = new Int32Array(rows + 1);
  const indices = new Int32Array(rows * k);
  const values = new Float32Array(rows * k);
  let at = 0;
  for (let start = 0; start < rows; start += NEIGHBOUR_BATCH) {
    const end = Math.min(rows, start + NEIGHBOUR_BATCH);
    const found = searchShards(shards, data.subarray(start * D, end * D), D, k + 1, threads);
    for (let r = start; r < end; r++) {
      const row: [number, number][] = [];
      for (const j of found[r - start]) {
        if (row.length === k) break;
        if (j === r) continue;
        let s = 0;
        for (let f = 0; f < dims; f++) s += vectors[r * dims + f] * vectors[j * dims + f];
        row.push([j, s]);
      }
      // Columns ascending, as every neighbour list in the index is (weights are looked up by binary search).
      for (const [j, s] of row.sort((a, b) => a[0] - b[0])) {
        indices[at] = j;
        values[at++] = s;
      }
      indptr[r + 1] = at;
    }
  }
  return { indptr, indices: indices.slice(0, at), values: values.slice(0, at) };
}

/**
 * Approximate top-k by inner product over a fixed item matrix (HNSW, usearch). Built in a worker
 * thread so a large catalogue's build (about a minute at 1M items) never holds the event loop;
 * the API thread maps the saved file and answers queries in ~0.1 ms.
 */
export class AnnIndex {
  private readonly query: Float32Array;

  private constructor(
    private readonly shards: Index[],
    private readonly dims: number,
    private readonly hasBias: boolean,
  ) {
    this.query = new Float32Array(dims + (hasBias ? 2 : 1));
    if (hasBias) this.query[dims] = 1;
  }

  static async build(vectors: Float32Array, rows: number, dims: number, bias: Float32Array | null): Promise<AnnIndex> {
    return (await AnnIndex.buildWithNeighbours(vectors, rows, dims, bias, 0)).index;
  }

  /** The index, and (for unit vectors without bias) every row's `neighbours` nearest rows, found in the same thread. */
  static async buildWithNeighbours(vectors: Float32Array, rows: number, dims: number, bias: Float32Array | null, neighbours: number): Promise<{ index: AnnIndex; lists: NeighbourLists | null }> {
    const file = join(tmpdir(), `recflow-ann-${process.pid}-${randomBytes(6).toString('hex')}.usearch`);
    const input: AnnBuildInput = { vectors, rows, dims, bias, file, neighbours };
    try {
      const thread = spawnThread(THREAD_MODULE, input);
      let lists: NeighbourLists | null = null;
      await new Promise<void>((resolve, reject) => {
        thread.once('message', (m: { ok: boolean; message?: string; lists?: NeighbourLists | null }) => {
          lists = m.lists ?? null;
          if (m.ok) resolve();
          else reject(new Error(`ANN build failed: ${m.message}`));
        });
        thread.once('error', reject);
        thread.once('exit', (code) => reject(new Error(`ANN build thread exited with code ${code}`)));
      });
      await thread.terminate();
      // Memory-mapped; the mappings outlive the files' names, removed just below.
      return { index: await AnnIndex.view(file, dims, bias !== null, rows), lists };
    } finally {
      await Promise.all(shardRanges(rows).map((_, s) => rm(shardFile(file, s), { force: true })));
    }
  }

  /**
   * An index a training job built and saved with its snapshot, memory-mapped: nothing is built or
   * read up front, pages come in as searches touch them. One shard at a time, yielding between
   * them (see SHARD_ROWS). Refuses files of another shape.
   */
  static async view(file: string, dims: number, hasBias: boolean, rows: number): Promise<AnnIndex> {
    const shards: Index[] = [];
    for (const [s, [from, to]] of shardRanges(rows).entries()) {
      const index = newIndex(dims + (hasBias ? 2 : 1));
      index.view(shardFile(file, s));
      if (index.size() !== to - from) throw new Error(`${shardFile(file, s)}: the shard holds ${index.size()} rows, ${to - from} expected`);
      shards.push(index);
      await yieldToEventLoop();
    }
    return new AnnIndex(shards, dims, hasBias);
  }

  /** Writes the shards to `<file>.0`, `<file>.1`, … (synchronous: the training thread saves them with a snapshot). */
  save(file: string): string[] {
    return this.shards.map((index, s) => {
      index.save(shardFile(file, s));
      return shardFile(file, s);
    });
  }

  /** Whether the indexed rows carry the item-bias column. */
  get withBias(): boolean {
    return this.hasBias;
  }

  get size(): number {
    return this.shards.reduce((n, index) => n + index.size(), 0);
  }

  /** Dense ids of (about) the k items with the largest u·x (+ bias), best first. */
  search(user: Float32Array, k: number): Int32Array {
    this.query.set(user.subarray(0, this.dims));
    return Int32Array.from(searchShards(this.shards, this.query, this.query.length, k, 1)[0]);
  }
}
