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

/** Reads a number from model metadata, refusing anything else. */
export function metaNumber(state: ModelState, key: string): number {
  const v = state.meta[key];
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`model state: ${key} must be a number`);
  return v;
}
