import type { Csr, Interactions } from '../data/interactions.js';

export const MODEL_NAMES = ['dmf', 'gmf', 'mlp', 'neumf', 'einmf', 'bpr', 'pop', 'itemknn', 'ease', 'ials', 'hybrid'] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

/** TensorFlow.js backends (`tensorflow` = tfjs-node); `auto` picks the best that loads. */
export const BACKEND_CHOICES = ['auto', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];

/** Hyperparameters: flat JSON values, recorded in every snapshot manifest. */
export type Hyper = Readonly<Record<string, number | string | boolean | readonly number[]>>;

export interface EpochProgress {
  /** Phase of training: NeuMF pretrains GMF and MLP before training itself. */
  phase: string;
  /** Validation metric after this epoch (HR@10 by default), when a validator was given. */
  valid?: number;
  epoch: number;
  epochs: number;
  /** Mean training loss over the epoch. */
  loss: number;
  samples: number;
  samplesPerSec: number;
  seconds: number;
}

/** Return `'stop'` from `onEpoch` to end training early. */
export type EpochCallback = (progress: EpochProgress) => void | 'stop' | Promise<void | 'stop'>;

/** Scores pairs with the model as it is now (during training). */
export type PairScorer = (users: Int32Array, items: Int32Array) => Float32Array;

export interface FitOptions {
  /** Epochs of the main phase (pretraining phases have their own hyperparameters). */
  epochs: number;
  onEpoch?: EpochCallback;
  /**
   * Model selection on held-out data: called after every epoch with a scorer for the current
   * weights; higher is better. Training keeps the best epoch's weights and stops after
   * `patience` epochs without improvement.
   */
  validate?: (score: PairScorer) => number;
  /** Epochs without improvement of `validate` before stopping. Default 5. */
  patience?: number;
  /** Aborting stops after the current batch and rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Within a long epoch, now and then (models with mini-batches): the share of the epoch done. */
  onEpochProgress?: (p: { phase: string; epoch: number; epochs: number; fraction: number }) => void;
  /**
   * Epochs of earlier phases by name (NeuMF's `pretrain-gmf`, `pretrain-mlp`), overriding their
   * own hyperparameters: a refit repeats the evaluated run's {@link FitSummary.phaseBestEpochs}.
   */
  phaseEpochs?: Readonly<Record<string, number>>;
  /**
   * Threads training at once: for models whose learner has a `replica()` (GMF, MLP, NeuMF, EINMF)
   * each trains its share of every epoch's batches on the shared weights (Hogwild); for iALS each
   * solves its share of the rows. Default 1.
   */
  threads?: number;
}

export interface FitSummary {
  /** Epochs actually run (early stopping may end sooner). */
  epochs: number;
  /** The epoch whose weights were kept (the last one without a validator). */
  bestEpoch: number;
  /** `validate`'s value at `bestEpoch`, when a validator was given. */
  bestValid?: number;
  /** The kept epoch of each phase before the main one, by phase name (models with such phases). */
  phaseBestEpochs?: Record<string, number>;
  samples: number;
  seconds: number;
  samplesPerSec: number;
  /** Threads that trained the model, when more than one did (FitOptions.threads). */
  threads?: number;
}

/** A dense row-major matrix (`rows × cols`). */
export interface Matrix {
  rows: number;
  cols: number;
  data: Float32Array;
}

/**
 * How serving turns embeddings into scores without the model:
 * - `dot`: score(u, i) ≈ user·item (+ itemBias); exact for GMF/BPR, the dot-product part for NeuMF/EINMF;
 * - `cosine`: DMF's cosine between tower outputs;
 * - `item-item`: no user vectors; the user is represented by the items they interacted with.
 */
export type ScoringKind = 'dot' | 'cosine' | 'item-item' | 'popularity';

export interface ServingEmbeddings {
  kind: ScoringKind;
  /** Whether `dot`/`cosine` scores equal the model's ranking exactly (false: candidates must be reranked). */
  exact: boolean;
  user: Matrix | null;
  item: Matrix;
  /** Per-item additive term of the score (e.g. popularity, or NeuMF's weighted bias). */
  itemBias?: Float32Array;
}

/** Everything needed to rebuild a trained model: named arrays plus JSON metadata. */
export interface ModelState {
  arrays: Record<string, Float32Array | Int32Array>;
  meta: Record<string, unknown>;
}

/**
 * The one interface every model implements (gorse's split: models know nothing of HTTP or SQL).
 * Users and items are dense 0-based ids of the training interactions.
 */
export interface RecModel {
  readonly name: ModelName;
  readonly hyper: Hyper;
  readonly nUsers: number;
  readonly nItems: number;
  fit(train: Interactions, options: FitOptions): Promise<FitSummary>;
  /** Scores pairs (users[k], items[k]); higher is better. */
  scorePairs(users: Int32Array, items: Int32Array): Float32Array;
  /** Vectors for serving and similar items. */
  embeddings(): ServingEmbeddings;
  getState(): ModelState;
  setState(state: ModelState): void;
}

/**
 * A model that scores a user from the items they interacted with (ItemKNN, EASE): no user
 * vectors, so scoring someone the model was not trained on is exact.
 */
export interface ItemBasedModel extends RecModel {
  /** Scores of every item for a user who interacted with `items` (dense ids). */
  scoresFor(items: ArrayLike<number>): Float32Array;
  /** Each item's most similar items (row i: its neighbours and weights). */
  neighbourLists(): Csr;
  /** What an interaction with item `from` adds to item `to`'s score. */
  contribution(from: number, to: number): number;
}

export function isItemBased(model: RecModel): model is ItemBasedModel {
  return typeof (model as Partial<ItemBasedModel>).scoresFor === 'function' && typeof (model as Partial<ItemBasedModel>).neighbourLists === 'function';
}

/**
 * The model cannot be built for this data or these settings (e.g. EASE on a catalogue too large
 * for its dense matrices): retrying cannot help, the job fails at once.
 */
export class ModelInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelInputError';
  }
}

/** Thrown when training is cancelled through `FitOptions.signal`. */
export class TrainingAborted extends Error {
  constructor(reason?: unknown) {
    super(typeof reason === 'string' ? reason : 'training aborted');
    this.name = 'TrainingAborted';
  }
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new TrainingAborted(signal.reason);
}

/**
 * Fit for models that are one pass over the data (ItemPop, ItemKNN): times `work`, validates
 * once, reports it as epoch 1 of 1, and summarises it like an iterative model's fit.
 */
export async function singlePassFit(
  model: Pick<RecModel, 'scorePairs'>,
  train: Interactions,
  options: FitOptions,
  phase: string,
  work: () => void | Promise<void>,
): Promise<FitSummary> {
  const t0 = performance.now();
  await work();
  const seconds = Math.max((performance.now() - t0) / 1000, 1e-9);
  const samples = train.item.length;
  const valid = options.validate?.((u, i) => model.scorePairs(u, i));
  const validPart = valid !== undefined ? { valid } : {};
  await options.onEpoch?.({ phase, epoch: 1, epochs: 1, loss: 0, samples, samplesPerSec: samples / seconds, seconds, ...validPart });
  return { epochs: 1, bestEpoch: 1, ...(valid !== undefined ? { bestValid: valid } : {}), samples, seconds, samplesPerSec: samples / seconds };
}
