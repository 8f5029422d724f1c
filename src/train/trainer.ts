import { nItems, nPairs, nUsers, toCsr, type Interactions } from '../data/interactions.js';
import { Rng } from '../data/rng.js';
import { leaveOneOutSplit, ratioSplit, type DataSplit } from '../data/split.js';
import type { BackendInfo } from '../models/backend.js';
import type { EpochProgress, FitOptions, FitSummary, ModelName, RecModel } from '../models/model.js';
import { createModel, DEFAULT_EPOCHS, withModelSeed } from '../models/registry.js';
import { buildEvalSet, evaluateFullRanking, evaluateSampled, type EvalSet, type RankingMetrics } from './evaluate.js';
import { PermanentJobError } from './errors.js';

export type SplitKind = 'loo' | 'ratio';

export interface TrainRequest {
  model: ModelName;
  /** Model hyperparameters, validated by the model's schema. */
  hyper?: Record<string, unknown>;
  epochs?: number;
  patience?: number;
  split?: SplitKind;
  /** Sampled negatives per held-out item (EVALUATION.md: 99). */
  evalNegatives?: number;
  /** Also rank against every unseen item (slower; not comparable with the papers). */
  fullRanking?: boolean;
  seed?: number;
  /**
   * After evaluation, train a fresh model with the same hyperparameters on all the data (the
   * held-out interactions included) for the kept epoch count, and return that model. Its metrics
   * are the evaluated model's: there is nothing left to hold out.
   */
  refit?: boolean;
  /** Threads training at once: the Hogwild neural models and iALS (FitOptions.threads). Default 1. */
  threads?: number;
}

export interface TrainProgress extends Partial<EpochProgress> {
  phase: string;
  /** Within a phase: e.g. NeuMF's pretraining runs. */
  stage?: string;
}

/** A model just evaluated, before any refit: what the pipeline's ranker is fit and judged on. */
export interface Evaluated {
  model: RecModel;
  split: DataSplit;
  validSet: EvalSet;
  testSet: EvalSet;
  test: RankingMetrics;
  seed: number;
}

export interface TrainHooks {
  /** Called once the model is evaluated and before it is refit (the retrain job fits the pipeline's ranker here). */
  onEvaluated?: (e: Evaluated) => Promise<void>;
  onProgress?: (p: TrainProgress) => void | Promise<void>;
  signal?: AbortSignal;
  /** Epoch ms after which training stops at the end of the current epoch, keeping the best one so far (a time budget). */
  stopAt?: number;
  /** Within long epochs: how far the current one is (progress bars). */
  onEpochProgress?: FitOptions['onEpochProgress'];
}

export interface TrainResult {
  model: ModelName;
  hyper: Record<string, unknown>;
  backend: BackendInfo;
  data: { users: number; items: number; pairs: number; train: number; valid: number; test: number; split: SplitKind; seed: number };
  fit: FitSummary;
  /** Validation metrics of the kept epoch (selection data). */
  valid: RankingMetrics;
  /** Test metrics of the kept epoch: the numbers to report (EVALUATION.md §5). */
  test: RankingMetrics;
  testFull?: RankingMetrics;
  /** Present when the returned model was refit on all the data after evaluation. */
  refit?: RefitSummary;
  history: EpochProgress[];
  seconds: number;
  peakRssBytes: number;
}

export interface RefitSummary {
  /** Main-phase epochs: the evaluated run's kept epoch. */
  epochs: number;
  /** Earlier phases' epochs (NeuMF pretraining), likewise the evaluated run's kept ones. */
  phaseEpochs?: Record<string, number>;
  pairs: number;
  seconds: number;
}

export class NotEnoughDataError extends PermanentJobError {
  constructor(message: string) {
    super(message);
    this.name = 'NotEnoughDataError';
  }
}

function splitData(data: Interactions, kind: SplitKind, seed: number): DataSplit {
  return kind === 'loo' ? leaveOneOutSplit(data) : ratioSplit(data, new Rng(seed));
}

/** The split and the sampled evaluation sets of a data set and seed: the same for every model trained on them. */
export function evaluationSplit(data: Interactions, kind: SplitKind, seed: number, evalNegatives = 99): { split: DataSplit; validSet: EvalSet; testSet: EvalSet } {
  const split = splitData(data, kind, seed);
  if (split.test.user.length === 0 || nPairs(split.train) === 0) {
    throw new NotEnoughDataError(`not enough data to train: ${nPairs(data)} interactions; at least one user needs 3 or more`);
  }
  const everSeen = toCsr(data, 'byUser');
  const negatives = Math.min(evalNegatives, Math.max(1, nItems(data) - 1));
  return { split, validSet: buildEvalSet(split.valid, everSeen, negatives, seed), testSet: buildEvalSet(split.test, everSeen, negatives, seed + 1) };
}

/**
 * Fits one model on `data` under the papers' protocol: split, validation HR@10 after every epoch
 * for early stopping, test metrics of the kept epoch. Returns the trained model (its ids are the
 * dense ids of `data`) and a result that goes into the snapshot manifest.
 */
export async function trainModel(data: Interactions, request: TrainRequest, backend: BackendInfo, hooks: TrainHooks = {}): Promise<{ model: RecModel; result: TrainResult }> {
  const started = performance.now();
  let peakRss = process.memoryUsage().rss;
  const sampleRss = (): void => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  };
  const kind = request.split ?? 'loo';
  const seed = request.seed ?? 42;
  await hooks.onProgress?.({ phase: 'splitting' });
  const { split, validSet, testSet } = evaluationSplit(data, kind, seed, request.evalNegatives);
  const hyper = request.seed === undefined ? (request.hyper ?? {}) : withModelSeed(request.model, request.hyper ?? {}, seed);
  const model = createModel(request.model, nUsers(data), nItems(data), hyper);
  const history: EpochProgress[] = [];
  const fit = await model.fit(split.train, {
    epochs: request.epochs ?? DEFAULT_EPOCHS[request.model],
    patience: request.patience ?? 3,
    signal: hooks.signal,
    threads: request.threads ?? 1,
    ...(hooks.onEpochProgress ? { onEpochProgress: hooks.onEpochProgress } : {}),
    validate: (score) => evaluateSampled(score, validSet)['HR@10'],
    onEpoch: async (p) => {
      sampleRss();
      history.push(p);
      await hooks.onProgress?.(p);
      return hooks.stopAt !== undefined && Date.now() >= hooks.stopAt ? 'stop' : undefined;
    },
  });
  await hooks.onProgress?.({ phase: 'evaluating' });
  const score = (u: Int32Array, i: Int32Array): Float32Array => model.scorePairs(u, i);
  const valid = evaluateSampled(score, validSet);
  const test = evaluateSampled(score, testSet);
  const testFull = request.fullRanking ? evaluateFullRanking(score, split.test, toCsr(data, 'byUser')) : undefined;
  await hooks.onEvaluated?.({ model, split, validSet, testSet, test, seed });
  sampleRss();
  const refit = request.refit ? await refitModel(data, model, fit, hooks, request.threads ?? 1) : null;
  sampleRss();
  const result: TrainResult = {
    model: request.model,
    hyper: { ...model.hyper },
    backend,
    data: { users: nUsers(data), items: nItems(data), pairs: nPairs(data), train: nPairs(split.train), valid: split.valid.user.length, test: split.test.user.length, split: kind, seed },
    fit,
    valid,
    test,
    ...(testFull ? { testFull } : {}),
    ...(refit ? { refit: refit.summary } : {}),
    history,
    seconds: (performance.now() - started) / 1000,
    peakRssBytes: peakRss,
  };
  return { model: refit?.model ?? model, result };
}

/**
 * The served model should know each user's latest interactions, which evaluation held out. The
 * epoch counts come from early stopping on the held-out data (every phase's, for NeuMF's
 * pretraining too); with no validation set left, the refit runs exactly those and keeps the last.
 */
export async function refitModel(data: Interactions, evaluated: RecModel, fit: FitSummary, hooks: TrainHooks, threads = 1): Promise<{ model: RecModel; summary: RefitSummary }> {
  const started = performance.now();
  const epochs = Math.max(1, fit.bestEpoch);
  const phaseEpochs = fit.phaseBestEpochs ? Object.fromEntries(Object.entries(fit.phaseBestEpochs).map(([phase, e]) => [phase, Math.max(1, e)])) : undefined;
  const model = createModel(evaluated.name, nUsers(data), nItems(data), { ...evaluated.hyper });
  await model.fit(data, {
    epochs,
    ...(phaseEpochs ? { phaseEpochs } : {}),
    signal: hooks.signal,
    threads,
    onEpoch: async (p) => {
      await hooks.onProgress?.({ ...p, phase: p.phase === 'train' ? 'refit' : `refit-${p.phase}` });
    },
  });
  const summary: RefitSummary = { epochs, ...(phaseEpochs ? { phaseEpochs } : {}), pairs: nPairs(data), seconds: (performance.now() - started) / 1000 };
  return { model, summary };
}
