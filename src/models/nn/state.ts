import type { Csr } from '../../data/interactions.js';
import type { ModelState } from '../model.js';
import type { Param } from './param.js';

/** The parameters as named arrays (copies), for snapshots. */
export function paramsToArrays(params: readonly Param[]): Record<string, Float32Array> {
  return Object.fromEntries(params.map((p) => [p.name, p.data.slice()]));
}

/** Copies named arrays back into parameters, refusing missing or mis-shaped ones. */
export function arraysToParams(params: readonly Param[], state: ModelState): void {
  for (const p of params) {
    const a = state.arrays[p.name];
    if (!(a instanceof Float32Array)) throw new Error(`model state lacks parameter ${p.name}`);
    if (a.length !== p.size) throw new Error(`parameter ${p.name}: expected ${p.size} values, got ${a.length}`);
    p.data.set(a);
  }
}

/** A sparse matrix as three named arrays (`<prefix>.indptr`, `.indices`, `.values`). */
export function csrToArrays(prefix: string, m: Csr): Record<string, Float32Array | Int32Array> {
  return { [`${prefix}.indptr`]: m.indptr, [`${prefix}.indices`]: m.indices, [`${prefix}.values`]: m.values };
}

/** Reads back {@link csrToArrays}, refusing missing, mistyped or mis-sized arrays. */
export function arraysToCsr(state: ModelState, prefix: string, rows: number, cols: number): Csr {
  const { [`${prefix}.indptr`]: indptr, [`${prefix}.indices`]: indices, [`${prefix}.values`]: values } = state.arrays;
  if (!(indptr instanceof Int32Array) || !(indices instanceof Int32Array) || !(values instanceof Float32Array)) {
    throw new Error(`model state lacks the sparse matrix ${prefix}`);
  }
  if (indptr.length !== rows + 1 || indices.length !== values.length || indptr[rows] !== indices.length) {
    throw new Error(`model state: ${prefix} does not have ${rows} rows`);
  }
  return { rows, cols, indptr, indices, values };
}
