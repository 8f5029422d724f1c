import type { Hyper } from './model.js';
import { ncfHyper, NcfModel, type NcfTrainHyper } from './ncf-model.js';

/** MLP (He et al. 2017 §3.3): a ReLU tower, halving per layer, on concatenated user and item embeddings. */
export class MlpModel extends NcfModel {
  readonly name = 'mlp' as const;

  constructor(nUsers: number, nItems: number, hyper: Partial<NcfTrainHyper> = {}) {
    super(nUsers, nItems, ncfHyper(hyper), { gmf: false, mlp: true });
  }

  get hyper(): Hyper {
    return { ...this.train };
  }
}
