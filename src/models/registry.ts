import { z } from 'zod';
import { BprModel } from './bpr.js';
import { DmfModel } from './dmf.js';
import { EaseModel } from './ease.js';
import { EinmfModel } from './einmf.js';
import { IalsModel } from './ials.js';
import { GmfModel } from './gmf.js';
import { ItemKnnModel } from './itemknn.js';
import { MlpModel } from './mlp.js';
import type { ModelName, RecModel } from './model.js';
import { NeumfModel } from './neumf.js';
import { PopModel } from './pop.js';
import { HybridModel } from './hybrid.js';

const positiveInt = (max: number) => z.number().int().min(1).max(max);
const rate = z.number().positive().max(1);
const seed = z.number().int().min(0).max(2 ** 31 - 1);
const ncf = {
  factors: positiveInt(512),
  mlpLayers: positiveInt(6),
  negatives: positiveInt(50),
  batchSize: positiveInt(65_536),
  lr: rate,
  l2: z.number().min(0).max(1),
  seed,
};

/**
 * Hyperparameters each model accepts from outside (admin API, CLI, job payloads). Unknown keys
 * are rejected so a typo never silently trains with defaults.
 */
export const HYPER_SCHEMAS = {
  dmf: z.strictObject({
    layers: z.array(positiveInt(2048)).min(1).max(6),
    negatives: positiveInt(50),
    batchSize: positiveInt(65_536),
    lr: rate,
    mu: z.number().positive().max(0.1),
    seed,
  }).partial(),
  gmf: z.strictObject(ncf).partial(),
  mlp: z.strictObject(ncf).partial(),
  neumf: z.strictObject({
    ...ncf,
    pretrain: z.boolean(),
    pretrainEpochs: positiveInt(500),
    alpha: z.number().min(0).max(1),
    finetuneOptimizer: z.enum(['sgd', 'adam']),
    finetuneLr: rate,
  }).partial(),
  einmf: z.strictObject({
    factors: positiveInt(512).refine((k) => k % 4 === 0, 'must be a multiple of 4'),
    negatives: positiveInt(50),
    batchSize: positiveInt(65_536),
    lr: rate,
    eta: z.number().min(0).max(1),
    dropout: z.number().min(0).max(0.9),
    seed,
  }).partial(),
  bpr: z.strictObject({ factors: positiveInt(512), lr: rate, reg: z.number().min(0).max(1), seed }).partial(),
  pop: z.strictObject({}),
  itemknn: z.strictObject({ neighbours: positiveInt(10_000), shrink: z.number().min(0).max(1e6) }).partial(),
  ease: z.strictObject({ lambda: z.number().positive().max(1e7) }).partial(),
  ials: z.strictObject({
    factors: positiveInt(1024),
    reg: z.number().min(0).max(100),
    alpha0: z.number().min(0).max(100),
    nu: z.number().min(0).max(2),
    initStd: z.number().positive().max(10),
    seed,
  }).partial(),
  hybrid: z.strictObject({
    factors: positiveInt(512),
    negatives: positiveInt(50),
    batchSize: positiveInt(65_536),
    lr: rate,
    l2: z.number().min(0).max(1),
    idDropout: z.number().min(0).max(0.9),
    seed,
  }).partial(),
} satisfies Record<ModelName, z.ZodType>;

export type HyperInput<M extends ModelName> = z.infer<(typeof HYPER_SCHEMAS)[M]>;

/** Default epochs of the main training phase per model (one pass for the non-iterative baselines). */
export const DEFAULT_EPOCHS: Record<ModelName, number> = { dmf: 20, gmf: 20, mlp: 20, neumf: 20, einmf: 20, bpr: 30, pop: 1, itemknn: 1, ease: 1, ials: 16, hybrid: 20 };

/**
 * `hyper` with its initial-weights seed set to `seed`, for the models that draw initial weights
 * (the others are deterministic given the data and take no seed). A seed already in `hyper` wins.
 */
export function withModelSeed(name: ModelName, hyper: Record<string, unknown>, seed: number): Record<string, unknown> {
  const seeded = 'seed' in HYPER_SCHEMAS[name].shape;
  return seeded && hyper.seed === undefined ? { ...hyper, seed } : hyper;
}

/** Builds a model of the given kind; `hyper` is validated against {@link HYPER_SCHEMAS}. */
export function createModel(name: ModelName, nUsers: number, nItems: number, hyper: unknown = {}): RecModel {
  switch (name) {
    case 'dmf':
      return new DmfModel(nUsers, nItems, HYPER_SCHEMAS.dmf.parse(hyper));
    case 'gmf':
      return new GmfModel(nUsers, nItems, HYPER_SCHEMAS.gmf.parse(hyper));
    case 'mlp':
      return new MlpModel(nUsers, nItems, HYPER_SCHEMAS.mlp.parse(hyper));
    case 'neumf':
      return new NeumfModel(nUsers, nItems, HYPER_SCHEMAS.neumf.parse(hyper));
    case 'einmf':
      return new EinmfModel(nUsers, nItems, HYPER_SCHEMAS.einmf.parse(hyper));
    case 'bpr':
      return new BprModel(nUsers, nItems, HYPER_SCHEMAS.bpr.parse(hyper));
    case 'pop':
      HYPER_SCHEMAS.pop.parse(hyper);
      return new PopModel(nUsers, nItems);
    case 'itemknn':
      return new ItemKnnModel(nUsers, nItems, HYPER_SCHEMAS.itemknn.parse(hyper));
    case 'ease':
      return new EaseModel(nUsers, nItems, HYPER_SCHEMAS.ease.parse(hyper));
    case 'ials':
      return new IalsModel(nUsers, nItems, HYPER_SCHEMAS.ials.parse(hyper));
    case 'hybrid':
      return new HybridModel(nUsers, nItems, HYPER_SCHEMAS.hybrid.parse(hyper));
  }
}
