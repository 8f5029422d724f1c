import { z } from 'zod';
import type { Config } from '../config.js';
import { buildInteractions, nPairs, type Interactions } from '../data/interactions.js';
import { JobVersionExists, type ModelsRepository, type NewVersion, type PromotionPolicy } from '../db/models-repository.js';
import type { Store } from '../db/store.js';
import type { TrainingRow } from '../db/training-data-repository.js';
import type { BackendInfo } from '../models/backend.js';
import { MODEL_NAMES, throwIfAborted } from '../models/model.js';
import { deleteSnapshot, writeSnapshot } from '../serving/snapshots.js';
import { openSnapshotStore } from '../snapshots/open.js';
import type { SnapshotStore } from '../snapshots/store.js';
import { PermanentJobError } from './errors.js';
import { promotionPolicy } from './promotion.js';
import { DEFAULT_AUTO_BUDGET_MINUTES, searchModels, type LeaderboardEntry } from './auto.js';
import { trainModel, type RefitSummary, type TrainProgress } from './trainer.js';
import { trainingThreads } from './threads.js';
import { labelFacts, PipelineJob } from './pipeline-job.js';
import { withContentFeatures } from '../features/attach.js';
import type { RankerReport } from './ranker-fit.js';

/** What a retrain job carries (validated again by the worker: the payload crossed a process boundary). */
export const retrainRequestSchema = z.strictObject({
  /** A model, or `auto`: search the candidates and keep the best by validation HR@10. */
  model: z.enum(['auto', ...MODEL_NAMES]),
  /** `auto` only: minutes the search may take (checked at epoch ends; the refit comes after). */
  budgetMinutes: z.number().positive().max(24 * 60).optional(),
  epochs: z.number().int().min(1).max(1000).optional(),
  patience: z.number().int().min(1).max(1000).optional(),
  split: z.enum(['loo', 'ratio']).optional(),
  hyper: z.record(z.string(), z.unknown()).optional(),
  /** Activate the new version even if it validates worse than the active one. */
  force: z.boolean().optional(),
  /** Refit on all data after evaluation; default `REFIT`. */
  refit: z.boolean().optional(),
});
export type RetrainRequest = z.infer<typeof retrainRequestSchema>;

export interface JobResult {
  [key: string]: unknown;
  model: string;
  version: string;
  promoted: boolean;
  previousVersion: string | null;
  /** Whether this version now serves by default (SERVING_MODEL=auto may keep another model type), and why. */
  serving: boolean;
  servingReason: string;
  metrics: { valid: Record<string, number>; test: Record<string, number> };
  seconds: number;
  /** Epochs and pairs of the refit on all data, or null when the evaluated model was saved. */
  refit: RefitSummary | null;
  backend: string;
  /** `auto` jobs: every candidate tried, with validation and test metrics and seconds. */
  leaderboard?: LeaderboardEntry[];
  /** The recommendation pipeline on the same split: its ranker, whether a learned one was kept, and its metrics beside the model's. */
  pipeline: RankerReport | null;
}

export interface JobContext {
  store: Store;
  config: Config;
  backend: BackendInfo;
  jobId: string | null;
  signal?: AbortSignal;
  onProgress?: (p: TrainProgress) => void;
  /** Cores `TRAIN_THREADS=auto` leaves free (see trainingThreads). */
  spareCores?: number;
}

/**
 * Dislikes are not evidence that the user likes the item: a pair whose current rating is at or
 * below the threshold, or that has a `dislike` event, stays out of the training positives
 * entirely (and serving never recommends it to that user).
 */
export function positiveRows(rows: TrainingRow[], dislikeThreshold: number): TrainingRow[] {
  const disliked = new Set<string>();
  const key = (r: TrainingRow): string => `${r.user}\u0000${r.item}`;
  for (const r of rows) if ((r.weight ?? 0) < 0) disliked.add(key(r));
  // Ratings come first in id order, so the last one read per pair is its current rating.
  const lastRating = new Map<string, number>();
  for (const r of rows) if (r.rating !== undefined) lastRating.set(key(r), r.rating);
  for (const [k, rating] of lastRating) if (rating <= dislikeThreshold) disliked.add(k);
  return rows.filter((r) => !disliked.has(key(r)));
}

/**
 * Job progress uses five phases (loading, training, evaluating, saving, done); which part of training
 * (NeuMF's `pretrain-gmf`, `pretrain-mlp`, `train`) goes in `stage`.
 */
function jobPhase(p: TrainProgress): TrainProgress {
  if (p.phase === 'splitting') return { ...p, phase: 'loading', stage: 'splitting' };
  if (p.phase === 'evaluating') return p;
  return { ...p, phase: 'training', stage: p.stage ? `${p.stage} · ${p.phase}` : p.phase };
}

function itemPopularity(data: Interactions): Float32Array {
  const pop = new Float32Array(data.itemIds.length);
  for (const i of data.item) pop[i]++;
  return pop;
}

/** Stores the written snapshot where every replica can read it; a failed upload leaves no local copy either. */
async function publish(snapshots: SnapshotStore, model: string, version: string, dir: string, modelDir: string): Promise<string> {
  try {
    return await snapshots.publish(model, version, dir);
  } catch (err) {
    await deleteSnapshot(modelDir, model, version);
    throw err;
  }
}

/**
 * Registers a written snapshot. A job registers at most one version: when another execution of
 * the same job got there first, this one's snapshot is deleted and the job fails permanently.
 */
async function registerOnce(models: ModelsRepository, v: NewVersion, policy: PromotionPolicy, snapshots: SnapshotStore): ReturnType<ModelsRepository['register']> {
  try {
    return await models.register(v, policy, Date.now());
  } catch (err) {
    if (!(err instanceof JobVersionExists)) throw err;
    await snapshots.delete(v.model, v.version, v.path);
    throw new PermanentJobError(`${err.message}; this execution's snapshot ${v.version} was removed`);
  }
}

/**
 * The retrain job, the same for both queues: read the database up to a watermark, train and
 * evaluate, write the snapshot (atomically), register it and maybe promote it, prune old
 * versions. A job that fails or is cancelled at any point registers nothing.
 */
export async function runTrainingJob(request: RetrainRequest, ctx: JobContext): Promise<JobResult> {
  const { store, config } = ctx;
  ctx.onProgress?.({ phase: 'loading' });
  const { rows, watermark } = await store.training.read(config.eventWeights);
  const facts = await labelFacts(store.catalogue);
  const interactions = buildInteractions(positiveRows(rows, config.dislikeThreshold), config.ratingMax);
  // Only the hybrid model reads content features; `auto` may try it.
  const data = request.model === 'hybrid' || request.model === 'auto' ? withContentFeatures(interactions, config.features, facts) : interactions;
  throwIfAborted(ctx.signal);
  const pipelineJob = new PipelineJob(data, config.pipeline, facts, { annMinItems: config.annMinItems, signal: ctx.signal });
  const hooks = { signal: ctx.signal, onProgress: (p: TrainProgress) => ctx.onProgress?.(jobPhase(p)), onEvaluated: pipelineJob.onEvaluated };
  const refit = request.refit ?? config.refit;
  const threads = trainingThreads(config.trainThreads, nPairs(data), ctx.spareCores ?? 0);
  const { model, result, leaderboard } =
    request.model === 'auto'
      ? await searchModels(data, { budgetMinutes: request.budgetMinutes ?? DEFAULT_AUTO_BUDGET_MINUTES, refit, threads, ...(request.patience ? { patience: request.patience } : {}) }, ctx.backend, hooks)
      : { ...(await trainModel(data, { model: request.model, hyper: request.hyper, epochs: request.epochs, patience: request.patience, split: request.split, refit, threads }, ctx.backend, hooks)), leaderboard: null };
  throwIfAborted(ctx.signal);
  ctx.onProgress?.({ phase: 'saving' });
  const { artifacts, retrieval, itemGram } = await pipelineJob.artifactsFor(model);
  throwIfAborted(ctx.signal);
  const snapshots = openSnapshotStore(config, store);
  const snapshot = await writeSnapshot(config.modelDir, {
    model,
    result,
    userIds: data.userIds,
    itemIds: data.itemIds,
    popularity: itemPopularity(data),
    watermark,
    jobId: ctx.jobId,
    artifacts,
    retrieval,
    itemGram,
  });
  const version = snapshot.manifest.version;
  const locator = await publish(snapshots, model.name, version, snapshot.dir, config.modelDir);
  if (ctx.signal?.aborted) {
    await snapshots.delete(model.name, version, locator);
    throwIfAborted(ctx.signal);
  }
  const models = store.models;
  const { promoted, previous, serving, servingReason } = await registerOnce(
    models,
    {
      model: model.name,
      version,
      path: locator,
      validHr10: result.valid['HR@10'],
      metrics: snapshot.manifest.metrics,
      manifest: snapshot.manifest,
      jobId: ctx.jobId,
    },
    promotionPolicy({ tolerance: config.promoteTolerance, force: request.force ?? false }),
    snapshots,
  );
  // Replicas reload at once instead of at their next poll.
  if (promoted) await store.announce({ kind: 'serving' });
  for (const old of await models.expendable(model.name, config.keepVersions)) {
    await snapshots.delete(old.model, old.version, old.path);
    await models.remove(old.model, old.version);
  }
  // The last progress a finished job shows: not the "saving" it had reached.
  ctx.onProgress?.({ phase: 'done' });
  return {
    model: model.name,
    version,
    promoted,
    previousVersion: previous?.version ?? null,
    serving,
    servingReason,
    metrics: snapshot.manifest.metrics,
    seconds: result.seconds,
    refit: result.refit ?? null,
    backend: ctx.backend.name,
    ...(leaderboard ? { leaderboard } : {}),
    pipeline: pipelineJob.report,
  };
}
