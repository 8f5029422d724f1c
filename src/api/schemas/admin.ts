import { z } from 'zod';
import { JOB_STATES } from '../../db/jobs-repository.js';
import { MODEL_NAMES } from '../../models/model.js';
import { VERSION_PATTERN } from '../../serving/snapshots.js';

/**
 * A retrain request. Common hyperparameters may be given at the top level (`factors`, `lr`, …)
 * or in `hyper`; the chosen model's own schema then validates them all.
 */
export const retrainBody = z
  .strictObject({
    model: z.enum(['auto', ...MODEL_NAMES]).optional().describe('A model, or `auto`: search the candidates within `budgetMinutes` and keep the best by validation HR@10'),
    budgetMinutes: z.number().positive().max(1440).optional(),
    epochs: z.number().int().min(1).max(1000).optional(),
    patience: z.number().int().min(1).max(1000).optional(),
    split: z.enum(['loo', 'ratio']).optional(),
    force: z.boolean().optional(),
    refit: z.boolean().optional(),
    factors: z.number().optional(),
    lr: z.number().optional(),
    negatives: z.number().optional(),
    batchSize: z.number().optional(),
    seed: z.number().optional(),
    hyper: z.record(z.string(), z.unknown()).optional(),
  })
  .default({});

const iso = z.string().nullable();
export const jobView = z.object({
  id: z.string(),
  model: z.string(),
  state: z.enum(JOB_STATES),
  progress: z.record(z.string(), z.unknown()).nullable(),
  /** Per-epoch progress of the current or last attempt (phase, stage, epoch, loss, valid HR@10, samples/s), for training curves. */
  history: z.array(z.record(z.string(), z.unknown())),
  result: z.record(z.string(), z.unknown()).nullable(),
  error: z.string().nullable(),
  attempts: z.number().int(),
  request: z.record(z.string(), z.unknown()),
  createdAt: z.string(),
  startedAt: iso,
  finishedAt: iso,
});

export const retrainResponse = z.object({ jobId: z.string(), deduplicated: z.boolean(), job: jobView });
export const jobParams = z.strictObject({ id: z.string().uuid('must be a job id (UUID)') });
export const jobsQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  state: z.enum(JOB_STATES).optional(),
});
export const jobsResponse = z.object({ jobs: z.array(jobView) });

export const modelVersionView = z.object({
  model: z.string(),
  version: z.string(),
  createdAt: z.string(),
  active: z.boolean(),
  activatedAt: z.string().nullable(),
  serving: z.boolean(),
  validHr10: z.number(),
  metrics: z.record(z.string(), z.unknown()),
  hyperparameters: z.record(z.string(), z.unknown()),
  backend: z.string().nullable(),
  jobId: z.string().nullable(),
});
export const modelsResponse = z.object({ models: z.array(modelVersionView) });
export const modelsQuery = z.strictObject({ model: z.enum(MODEL_NAMES).optional() });
export const activateParams = z.strictObject({
  model: z.enum(MODEL_NAMES),
  version: z.string().regex(VERSION_PATTERN, 'must be a version id'),
});

export const servingBody = z.strictObject({
  model: z.enum(['auto', ...MODEL_NAMES]).describe('`auto` (best validation HR@10, then the promotion rules) or a model to pin'),
  version: z.string().regex(VERSION_PATTERN, 'must be a version id').optional().describe('Activate this version of `model` first (rollback or roll forward)'),
}).refine((b) => b.model !== 'auto' || b.version === undefined, { message: 'a version needs a model, not auto', path: ['version'] });

export const servingView = z.object({
  mode: z.enum(['auto', 'pinned']),
  /** The model type serving by default, and its active version (null when none is trained yet). */
  model: z.string().nullable(),
  version: z.string().nullable(),
  validHr10: z.number().nullable(),
  /** Who chose: SERVING_MODEL, an admin, promotion after a retrain, the migration. */
  setBy: z.string(),
  updatedAt: z.string(),
  /** The version serving processes have loaded (may lag `version` by a poll, MODEL_POLL_MS). */
  loadedVersion: z.string().nullable(),
});
