import type { Interactions } from '../data/interactions.js';
import { Rng } from '../data/rng.js';
import type { FitOptions, FitSummary, Hyper } from './model.js';
import { ncfHyper, NcfModel, stripUndefined, type NcfTrainHyper } from './ncf-model.js';
import type { NcfNetwork } from './nn/ncf-network.js';

export interface NeumfHyper extends NcfTrainHyper {
  /** Initialise from separately trained GMF and MLP (NeuMF-p, the paper's best). Default true. */
  pretrain: boolean;
  /** Epochs for each pretraining run (with early stopping when a validator is given). */
  pretrainEpochs: number;
  /** Trade-off between the pretrained GMF and MLP output weights (α in eq. 13). Default 0.5. */
  alpha: number;
  /** Optimiser after pretraining: the paper uses vanilla SGD since Adam's moments are not carried over. */
  finetuneOptimizer: 'sgd' | 'adam';
  finetuneLr: number;
}

export const NEUMF_DEFAULTS: Omit<NeumfHyper, keyof NcfTrainHyper> = {
  pretrain: true,
  pretrainEpochs: 20,
  alpha: 0.5,
  finetuneOptimizer: 'sgd',
  finetuneLr: 0.001,
};

/**
 * NeuMF (He et al. 2017 §3.4): GMF and MLP with separate embeddings, fused in one output unit.
 * With `pretrain`, GMF and MLP are first trained alone with Adam; NeuMF starts from their
 * weights with h ← [α·h_GMF ; (1−α)·h_MLP] and is then trained with SGD, as in the paper.
 */
export class NeumfModel extends NcfModel {
  readonly name = 'neumf' as const;
  readonly neumf: NeumfHyper;

  constructor(nUsers: number, nItems: number, hyper: Partial<NeumfHyper> = {}) {
    const base = ncfHyper(hyper);
    super(nUsers, nItems, base, { gmf: true, mlp: true });
    this.neumf = { ...base, ...NEUMF_DEFAULTS, ...stripUndefined(hyper) };
  }

  get hyper(): Hyper {
    return { ...this.neumf };
  }

  override async fit(train: Interactions, options: FitOptions): Promise<FitSummary> {
    this.checkData(train);
    if (!this.neumf.pretrain) return this.trainNetwork(this.net, train, options, 'train');

    const pre = (phase: string): FitOptions => ({ ...options, epochs: options.phaseEpochs?.[phase] ?? this.neumf.pretrainEpochs });
    const gmf = this.buildNetwork({ gmf: true, mlp: false }, new Rng(this.train.seed + 1));
    const mlp = this.buildNetwork({ gmf: false, mlp: true }, new Rng(this.train.seed + 2));
    const gmfRun = await this.trainNetwork(gmf, train, pre('pretrain-gmf'), 'pretrain-gmf');
    const mlpRun = await this.trainNetwork(mlp, train, pre('pretrain-mlp'), 'pretrain-mlp');
    this.initFromPretrained(gmf, mlp);
    const main = await this.trainNetwork(this.net, train, options, 'train', this.neumf.finetuneOptimizer, this.neumf.finetuneLr);
    const samples = gmfRun.samples + mlpRun.samples + main.samples;
    const seconds = gmfRun.seconds + mlpRun.seconds + main.seconds;
    const phaseBestEpochs = { 'pretrain-gmf': gmfRun.bestEpoch, 'pretrain-mlp': mlpRun.bestEpoch };
    return { ...main, phaseBestEpochs, samples, seconds, samplesPerSec: samples / seconds };
  }

  /** Eq. 13: copy embeddings and tower, concatenate the output weights scaled by α and 1−α. */
  private initFromPretrained(gmf: NcfNetwork, mlp: NcfNetwork): void {
    const net = this.net;
    const a = this.neumf.alpha;
    net.gmfP!.data.set(gmf.gmfP!.data);
    net.gmfQ!.data.set(gmf.gmfQ!.data);
    net.mlpP!.data.set(mlp.mlpP!.data);
    net.mlpQ!.data.set(mlp.mlpQ!.data);
    net.tower!.params().forEach((p, k) => p.data.set(mlp.tower!.params()[k].data));
    const F = net.gmfSize;
    for (let f = 0; f < F; f++) net.h.data[f] = a * gmf.h.data[f];
    for (let f = 0; f < net.mlpOut; f++) net.h.data[F + f] = (1 - a) * mlp.h.data[f];
    // The paper is silent on the bias; mixing it like h keeps the initial logit a blend of both.
    net.bias.data[0] = a * gmf.bias.data[0] + (1 - a) * mlp.bias.data[0];
  }
}
