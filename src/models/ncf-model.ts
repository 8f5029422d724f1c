import type { Interactions } from '../data/interactions.js';
import { nItems, nUsers } from '../data/interactions.js';
import { Rng } from '../data/rng.js';
import type { FitOptions, FitSummary, Hyper, Matrix, ModelName, ModelState, RecModel, ServingEmbeddings } from './model.js';
import { NcfNetwork, type NcfConfig } from './nn/ncf-network.js';
import { createOptimizer } from './nn/optimizer.js';
import { arraysToParams, paramsToArrays } from './nn/state.js';
import { trainPointwise } from './nn/train-loop.js';

/** Training hyperparameters shared by GMF, MLP and NeuMF (NCF paper defaults). */
export interface NcfTrainHyper {
  /** Predictive factors: GMF embedding size and the MLP tower's last layer. */
  factors: number;
  /** MLP hidden layers below the predictive factors (tower halves per layer). Default 3 in total. */
  mlpLayers: number;
  negatives: number;
  batchSize: number;
  lr: number;
  l2: number;
  seed: number;
}

export const NCF_DEFAULTS: NcfTrainHyper = { factors: 64, mlpLayers: 3, negatives: 4, batchSize: 256, lr: 0.001, l2: 0, seed: 42 };

/**
 * The MLP tower for `factors` predictive factors and `layers` hidden layers, halving upwards:
 * 64 factors, 3 layers → input 256 (two 128-d embeddings) → 256 → 128 → 64, the shape
 * PERFORMANCE-NOTES.md measured.
 */
export function mlpTowerSizes(factors: number, layers: number): number[] {
  const hidden = Array.from({ length: layers }, (_, l) => factors * 2 ** (layers - 1 - l));
  return [hidden[0], ...hidden];
}

/** A model that is an {@link NcfNetwork}: GMF, MLP or NeuMF. */
export abstract class NcfModel implements RecModel {
  abstract readonly name: ModelName;
  net: NcfNetwork;

  constructor(
    readonly nUsers: number,
    readonly nItems: number,
    readonly train: NcfTrainHyper,
    readonly branches: { gmf: boolean; mlp: boolean },
  ) {
    this.net = this.buildNetwork(branches, new Rng(train.seed));
  }

  abstract get hyper(): Hyper;

  protected buildNetwork(branches: { gmf: boolean; mlp: boolean }, rng: Rng): NcfNetwork {
    const config: NcfConfig = {
      nUsers: this.nUsers,
      nItems: this.nItems,
      gmfFactors: branches.gmf ? this.train.factors : 0,
      mlpLayers: branches.mlp ? mlpTowerSizes(this.train.factors, this.train.mlpLayers) : [],
    };
    return new NcfNetwork(config, rng);
  }

  protected checkData(train: Interactions): void {
    if (nUsers(train) !== this.nUsers || nItems(train) !== this.nItems) {
      throw new Error(`${this.name}: built for ${this.nUsers}×${this.nItems}, data is ${nUsers(train)}×${nItems(train)}`);
    }
  }

  /** Trains `net` with Adam (or `optimizer`) on the data, reporting under `phase`. */
  protected async trainNetwork(
    net: NcfNetwork,
    train: Interactions,
    options: FitOptions,
    phase: string,
    optimizer: 'adam' | 'sgd' = 'adam',
    lr = this.train.lr,
  ): Promise<FitSummary> {
    net.optimizer = createOptimizer(optimizer, { lr, l2: this.train.l2 });
    const rng = new Rng(this.train.seed + phase.length * 7919);
    return trainPointwise(net, train, { negatives: this.train.negatives, batchSize: this.train.batchSize }, rng, options, phase);
  }

  async fit(train: Interactions, options: FitOptions): Promise<FitSummary> {
    this.checkData(train);
    return this.trainNetwork(this.net, train, options, 'train');
  }

  scorePairs(users: Int32Array, items: Int32Array): Float32Array {
    return this.net.scorePairs(users, items);
  }

  /**
   * GMF's factors, with the output weights folded into the user side, so user·item equals the
   * GMF part of the logit. Exact for GMF; for NeuMF it leaves out the MLP branch (rerank).
   */
  embeddings(): ServingEmbeddings {
    const { gmfP, gmfQ, mlpP, mlpQ } = this.net;
    if (gmfP && gmfQ) {
      const F = gmfP.cols;
      const user = new Float32Array(gmfP.data.length);
      const h = this.net.h.data;
      for (let u = 0; u < gmfP.rows; u++) for (let f = 0; f < F; f++) user[u * F + f] = gmfP.data[u * F + f] * h[f];
      return {
        kind: 'dot',
        exact: !this.branches.mlp,
        user: { rows: gmfP.rows, cols: F, data: user },
        item: { rows: gmfQ.rows, cols: F, data: gmfQ.data.slice() },
      };
    }
    const asMatrix = (p: NonNullable<typeof mlpP>): Matrix => ({ rows: p.rows, cols: p.cols, data: p.data.slice() });
    return { kind: 'dot', exact: false, user: asMatrix(mlpP!), item: asMatrix(mlpQ!) };
  }

  getState(): ModelState {
    return { arrays: paramsToArrays(this.net.params()), meta: { nUsers: this.nUsers, nItems: this.nItems } };
  }

  setState(state: ModelState): void {
    arraysToParams(this.net.params(), state);
  }
}

/** Reads NCF training hyperparameters from loose input over the defaults. */
export function ncfHyper(input: Partial<NcfTrainHyper>): NcfTrainHyper {
  return { ...NCF_DEFAULTS, ...stripUndefined(input) };
}

export function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
