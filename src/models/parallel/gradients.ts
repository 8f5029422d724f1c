import type { Optimizer } from '../nn/optimizer.js';
import { RowGradAccumulator, type Param, type SparseGrad } from '../nn/param.js';

/** One gradient a step handed its optimizer: a dense parameter's (`rows` null) or some rows of a sparse one. */
export interface GradEntry {
  /** Index of the parameter in the learner's `params()`. */
  param: number;
  rows: Int32Array | null;
  values: Float32Array;
}

/**
 * An optimizer that applies nothing: it keeps copies of one step's gradients, by parameter
 * index, so that a data-parallel shard's gradients can be combined with the others' before the
 * real optimizer applies them once.
 */
export class GradientRecorder implements Optimizer {
  readonly kind = 'record';
  private readonly index: Map<Param, number>;
  private entries: GradEntry[] = [];

  constructor(params: readonly Param[]) {
    this.index = new Map(params.map((p, k) => [p, k]));
  }

  beginStep(): void {}

  applyDense(p: Param, grad: Float32Array): void {
    this.entries.push({ param: this.indexOf(p), rows: null, values: grad.slice(0, p.size) });
  }

  applySparse(p: Param, grad: SparseGrad): void {
    this.entries.push({ param: this.indexOf(p), rows: grad.rows.slice(), values: grad.values.slice(0, grad.rows.length * p.cols) });
  }

  /** The gradients recorded since the last take. */
  take(): GradEntry[] {
    const taken = this.entries;
    this.entries = [];
    return taken;
  }

  private indexOf(p: Param): number {
    const k = this.index.get(p);
    if (k === undefined) throw new Error(`gradient recorder: ${p.name} is not one of the learner's parameters`);
    return k;
  }
}

/** A shard's gradients and its share of the batch (its size over the batch's). */
export interface ShardGradients {
  entries: readonly GradEntry[];
  weight: number;
}

/**
 * Combines shards' gradients into the whole batch's, Σ weight·gradient, and applies them with
 * one optimizer step. The models' losses are means over the batch, so a shard's gradient scaled
 * by its share of the batch sums to exactly the full batch's gradient. Shards are added in the
 * order given and parameters applied in index order: the same shards give the same update.
 */
export class GradientCombiner {
  private readonly sparse: (RowGradAccumulator | null)[];
  private readonly dense: (Float32Array | null)[];

  constructor(private readonly params: readonly Param[]) {
    this.sparse = params.map(() => null);
    this.dense = params.map(() => null);
  }

  apply(optimizer: Optimizer, shards: readonly ShardGradients[]): void {
    const usedDense = new Set<number>();
    const usedSparse = new Set<number>();
    for (const { entries, weight } of shards) {
      for (const e of entries) {
        if (e.rows) {
          this.addSparse(e, weight);
          usedSparse.add(e.param);
        } else {
          this.addDense(e, weight, !usedDense.has(e.param));
          usedDense.add(e.param);
        }
      }
    }
    optimizer.beginStep();
    for (const k of [...usedDense].sort((a, b) => a - b)) optimizer.applyDense(this.params[k], this.dense[k]!);
    for (const k of [...usedSparse].sort((a, b) => a - b)) {
      const acc = this.sparse[k]!;
      optimizer.applySparse(this.params[k], acc.take());
      acc.reset();
    }
  }

  private addDense(e: GradEntry, weight: number, first: boolean): void {
    const sum = (this.dense[e.param] ??= new Float32Array(this.params[e.param].size));
    const v = e.values;
    if (first) for (let k = 0; k < sum.length; k++) sum[k] = weight * v[k];
    else for (let k = 0; k < sum.length; k++) sum[k] += weight * v[k];
  }

  private addSparse(e: GradEntry, weight: number): void {
    const p = this.params[e.param];
    const acc = (this.sparse[e.param] ??= new RowGradAccumulator(p.rows, p.cols, 4096));
    const rows = e.rows!;
    for (let r = 0; r < rows.length; r++) acc.add(rows[r], e.values, r * p.cols, weight);
  }
}
