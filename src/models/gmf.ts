import type { Hyper } from './model.js';
import { ncfHyper, NcfModel, type NcfTrainHyper } from './ncf-model.js';

/** GMF (He et al. 2017 §3.2): ŷ = σ(hᵀ(p_u ⊙ q_i)), log loss, 4 sampled negatives per positive. */
export class GmfModel extends NcfModel {
  readonly name = 'gmf' as const;

  constructor(nUsers: number, nItems: number, hyper: Partial<NcfTrainHyper> = {}) {
    super(nUsers, nItems, ncfHyper(hyper), { gmf: true, mlp: false });
  }

  get hyper(): Hyper {
    return { ...this.train };
  }
}
