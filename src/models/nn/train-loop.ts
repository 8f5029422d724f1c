import { toCsr, type Interactions } from '../../data/interactions.js';
import { pointwiseEpoch, type EpochOrder, type PointwiseInstances } from '../../data/negatives.js';
import type { Rng } from '../../data/rng.js';
import { throwIfAborted, type FitOptions, type FitSummary, type Hyper, type ModelName } from '../model.js';
import { startShards, type ShardPool } from '../parallel/shard-pool.js';
import type { NcfConfig } from './ncf-network.js';
import type { Optimizer } from './optimizer.js';
import type { Param } from './param.js';

/** A slice of one epoch's instances. */
export interface PointwiseBatch {
  size: number;
  user: Int32Array;
  item: Int32Array;
  /** 1 for observed pairs, 0 for sampled negatives. */
  label: Float32Array;
  /** rating / max rating for rated positives, 0 for negatives, NaN for unrated (implicit-only) positives. */
  explicit: Float32Array;
}

/**
 * How a training thread builds a twin of a learner: a model that is its own learner, given the
 * training data (EINMF), or an NCF network.
 */
export type LearnerRecipe = { kind: 'model'; name: ModelName; nUsers: number; nItems: number; hyper: Hyper } | { kind: 'ncf'; config: NcfConfig };

/** Instances [start, end) of an epoch as a batch (views, no copy). */
export function batchOf(inst: PointwiseInstances, start: number, end: number): PointwiseBatch {
  return { size: end - start, user: inst.user.subarray(start, end), item: inst.item.subarray(start, end), label: inst.label.subarray(start, end), explicit: inst.explicit.subarray(start, end) };
}

/** A model that learns from pointwise (user, item, label) batches. */
export interface PointwiseLearner {
  /** One optimisation step on the batch, through `optimizer`; returns the summed loss of its instances. */
  trainBatch(batch: PointwiseBatch): number;
  optimizer: Optimizer | null;
  /** How another thread builds this learner's twin; without it, training runs on one thread. */
  replica?(): LearnerRecipe;
  /** Gives training-time randomness (dropout) its own stream for training thread `stream` > 0. */
  forkRandom?(stream: number): void;
  scorePairs(users: Int32Array, items: Int32Array): Float32Array;
  /** Every trainable parameter: early stopping copies and restores them. */
  params(): Param[];
  /** Called after parameters were overwritten from outside (early stopping's restore). */
  paramsChanged?(): void;
}

export interface PointwiseSchedule {
  negatives: number;
  batchSize: number;
  order?: EpochOrder;
}

/** Explicit targets of the training pairs: rating / max rating, NaN for pairs without a rating. */
export function explicitTargets(train: Interactions): Float32Array {
  const out = new Float32Array(train.rating.length);
  for (let k = 0; k < out.length; k++) out[k] = train.rating[k] / train.ratingMax;
  return out;
}

// Training is synchronous number crunching; yield to the event loop this often so progress
// reports, cancellation and (in the embedded setup) HTTP requests are not starved.
const YIELD_EVERY_MS = 50;
const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Runs `epochs` epochs of pointwise training: each epoch draws fresh negatives for every
 * positive (NCF's protocol), shuffles, and feeds mini-batches to the learner.
 */
export async function trainPointwise(
  learner: PointwiseLearner,
  train: Interactions,
  schedule: PointwiseSchedule,
  rng: Rng,
  fit: FitOptions,
  phase = 'train',
  targets: Float32Array = explicitTargets(train),
): Promise<FitSummary> {
  const pool = await startShards(learner, train, fit.threads ?? 1);
  try {
    return await runEpochs(learner, pool, { train, schedule, rng, fit, phase, targets });
  } finally {
    await pool?.close();
  }
}

interface EpochPlan {
  train: Interactions;
  schedule: PointwiseSchedule;
  rng: Rng;
  fit: FitOptions;
  phase: string;
  targets: Float32Array;
}

async function runEpochs(learner: PointwiseLearner, pool: ShardPool | null, { train, schedule, rng, fit, phase, targets }: EpochPlan): Promise<FitSummary> {
  const seen = toCsr(train, 'byUser');
  const positives = { user: train.user, item: train.item, explicit: targets };
  const started = performance.now();
  const selection = new BestEpoch(learner, fit);
  let samples = 0;
  let epochsRun = 0;
  for (let epoch = 1; epoch <= fit.epochs; epoch++) {
    throwIfAborted(fit.signal);
    const t0 = performance.now();
    const inst = pointwiseEpoch(positives, seen, schedule.negatives, rng, schedule.order);
    const n = inst.user.length;
    // With training threads, this one trains batches 0, T, 2T… and each other thread its own share.
    const others = pool?.trainShares(inst, schedule.batchSize);
    others?.catch(() => {}); // awaited below; an abort closes the pool first
    const stride = (pool?.size ?? 1) * schedule.batchSize;
    let lossSum = 0;
    let lastYield = performance.now();
    for (let start = 0; start < n; start += stride) {
      const end = Math.min(n, start + schedule.batchSize);
      lossSum += learner.trainBatch(batchOf(inst, start, end));
      if (performance.now() - lastYield > YIELD_EVERY_MS) {
        fit.onEpochProgress?.({ phase, epoch, epochs: fit.epochs, fraction: end / n });
        await yieldToEventLoop();
        throwIfAborted(fit.signal);
        lastYield = performance.now();
      }
    }
    lossSum += (await others) ?? 0;
    samples += n;
    epochsRun = epoch;
    const seconds = (performance.now() - t0) / 1000;
    const valid = selection.observe(epoch);
    const verdict = await fit.onEpoch?.({
      phase,
      epoch,
      epochs: fit.epochs,
      loss: lossSum / n,
      samples: n,
      samplesPerSec: n / seconds,
      seconds,
      ...(valid !== undefined ? { valid } : {}),
    });
    if (verdict === 'stop' || selection.exhausted(epoch)) break;
  }
  selection.restoreBest();
  const seconds = (performance.now() - started) / 1000;
  return { epochs: epochsRun, samples, seconds, samplesPerSec: samples / seconds, ...selection.summary(epochsRun), ...(pool ? { threads: pool.size } : {}) };
}

/** Tracks the best epoch on the validator and keeps a copy of its weights (EVALUATION.md §5). */
export class BestEpoch {
  private best = -Infinity;
  private bestEpoch = 0;
  private saved: Float32Array[] | null = null;
  private readonly patience: number;

  constructor(
    private readonly learner: Pick<PointwiseLearner, 'scorePairs' | 'params' | 'paramsChanged'>,
    private readonly fit: Pick<FitOptions, 'validate' | 'patience'>,
  ) {
    this.patience = fit.patience ?? 5;
  }

  /** Validates the current weights; returns the metric (undefined without a validator). */
  observe(epoch: number): number | undefined {
    if (!this.fit.validate) {
      this.bestEpoch = epoch;
      return undefined;
    }
    const metric = this.fit.validate((u, i) => this.learner.scorePairs(u, i));
    if (metric > this.best) {
      this.best = metric;
      this.bestEpoch = epoch;
      this.saved = this.learner.params().map((p) => p.data.slice());
    }
    return metric;
  }

  exhausted(epoch: number): boolean {
    return this.fit.validate !== undefined && epoch - this.bestEpoch >= this.patience;
  }

  restoreBest(): void {
    if (!this.saved) return;
    const params = this.learner.params();
    params.forEach((p, k) => p.data.set(this.saved![k]));
    this.learner.paramsChanged?.();
  }

  summary(epochsRun: number): { bestEpoch: number; bestValid?: number } {
    if (!this.fit.validate) return { bestEpoch: epochsRun };
    return { bestEpoch: this.bestEpoch, bestValid: this.best };
  }
}
