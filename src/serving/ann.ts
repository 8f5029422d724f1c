import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import type { Index } from 'usearch';
import { siblingModule, spawnThread } from '../threads/spawn.js';

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
  file: string;
}

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

/** Builds and saves the index (runs inside the build thread). */
export function buildAnnFile(input: AnnBuildInput, threads: number): void {
  const { data, dims } = augmentItems(input);
  const index = newIndex(dims);
  index.add(BigUint64Array.from({ length: input.rows }, (_, i) => BigInt(i)), data, threads);
  index.save(input.file);
}

/**
 * Approximate top-k by inner product over a fixed item matrix (HNSW, usearch). Built in a worker
 * thread so a large catalogue's build (about a minute at 1M items) never holds the event loop;
 * the API thread maps the saved file and answers queries in ~0.1 ms.
 */
export class AnnIndex {
  private readonly query: Float32Array;

  private constructor(
    private readonly index: Index,
    private readonly dims: number,
    private readonly hasBias: boolean,
  ) {
    this.query = new Float32Array(dims + (hasBias ? 2 : 1));
    if (hasBias) this.query[dims] = 1;
  }

  static async build(vectors: Float32Array, rows: number, dims: number, bias: Float32Array | null): Promise<AnnIndex> {
    const file = join(tmpdir(), `recflow-ann-${process.pid}-${randomBytes(6).toString('hex')}.usearch`);
    const input: AnnBuildInput = { vectors, rows, dims, bias, file };
    try {
      const thread = spawnThread(THREAD_MODULE, input);
      await new Promise<void>((resolve, reject) => {
        thread.once('message', (m: { ok: boolean; message?: string }) => (m.ok ? resolve() : reject(new Error(`ANN build failed: ${m.message}`))));
        thread.once('error', reject);
        thread.once('exit', (code) => reject(new Error(`ANN build thread exited with code ${code}`)));
      });
      await thread.terminate();
      const index = newIndex(dims + (bias ? 2 : 1));
      // Memory-mapped: O(1) here; the mapping outlives the file's name, removed just below.
      index.view(file);
      return new AnnIndex(index, dims, bias !== null);
    } finally {
      await rm(file, { force: true });
    }
  }

  get size(): number {
    return this.index.size();
  }

  /** Dense ids of (about) the k items with the largest u·x (+ bias), best first. */
  search(user: Float32Array, k: number): Int32Array {
    this.query.set(user.subarray(0, this.dims));
    const found = this.index.search(this.query, Math.min(k, this.size), 1);
    return Int32Array.from(found.keys, (key) => Number(key));
  }
}
