import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { z } from 'zod';
import type { JobRecord } from '../../db/jobs-repository.js';
import type { ModelsRepository, ModelVersion } from '../../db/models-repository.js';
import { AppError, notFound } from '../../errors.js';
import type { ModelName } from '../../models/model.js';
import { HYPER_SCHEMAS } from '../../models/registry.js';
import { QueueUnavailableError, type JobQueue } from '../../queue/job-queue.js';
import type { RetrainRequest } from '../../train/job-handler.js';
import { errorResponse } from '../schemas/common.js';
import {
  activateParams,
  jobParams,
  jobsQuery,
  jobsResponse,
  jobView,
  modelsQuery,
  modelsResponse,
  retrainBody,
  retrainResponse,
  modelVersionView,
} from '../schemas/admin.js';

export interface AdminRoutesOptions {
  queue: JobQueue;
  models: ModelsRepository;
  defaultModel: ModelName | 'auto';
  /** Which version serving answers with right now, per model (for the `serving` flag). */
  servingVersion: () => string | null;
  /** Serving picks up activation changes now instead of at the next poll (resolves once loaded). */
  refreshServing: () => Promise<void>;
}

/** Every route here needs an admin key (api/access.ts enforces and documents it). */
const ADMIN = { scope: 'admin' as const };

const isoOrNull = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export function toJobView(job: JobRecord): z.infer<typeof jobView> {
  return { ...job, createdAt: new Date(job.createdAt).toISOString(), startedAt: isoOrNull(job.startedAt), finishedAt: isoOrNull(job.finishedAt) };
}

/** `auto` picks models and hyperparameters itself: a request may give it only a budget, patience, refit and force. */
function toAutoRequest(body: z.infer<typeof retrainBody>): RetrainRequest {
  const { model: _model, budgetMinutes, patience, force, refit, ...rest } = body;
  const fixed = Object.entries(rest).filter(([, v]) => v !== undefined).map(([k]) => k);
  if (fixed.length) throw new AppError(400, 'validation_failed', 'Invalid request', fixed.map((k) => ({ path: `body.${k}`, message: 'auto chooses this itself; name a model to set it' })));
  return { model: 'auto', ...(budgetMinutes ? { budgetMinutes } : {}), ...(patience ? { patience } : {}), ...(force ? { force } : {}), ...(refit !== undefined ? { refit } : {}) };
}

/** Merges top-level hyperparameters into `hyper` and validates them with the model's schema (400 naming the field). */
function toRetrainRequest(body: z.infer<typeof retrainBody>, fallback: ModelName | 'auto'): RetrainRequest {
  const model = body.model ?? fallback;
  if (model === 'auto') return toAutoRequest(body);
  if (body.budgetMinutes !== undefined) throw new AppError(400, 'validation_failed', 'Invalid request', [{ path: 'body.budgetMinutes', message: 'only for model "auto"' }]);
  const { model: _model, budgetMinutes: _budget, epochs, patience, split, force, refit, hyper = {}, ...top } = body;
  const merged: Record<string, unknown> = { ...Object.fromEntries(Object.entries(top).filter(([, v]) => v !== undefined)), ...hyper };
  const parsed = HYPER_SCHEMAS[model].safeParse(merged);
  if (!parsed.success) {
    const details = parsed.error.issues.map((i) => {
      const key = String(i.path[0] ?? '');
      const path = key in top && !(key in hyper) ? `body.${i.path.join('.')}` : `body.hyper.${i.path.join('.')}`;
      const message = i.code === 'unrecognized_keys' ? `not a ${model} hyperparameter: ${i.keys.join(', ')}` : i.message;
      return { path: i.code === 'unrecognized_keys' ? 'body' : path, message };
    });
    throw new AppError(400, 'validation_failed', 'Invalid request', details);
  }
  return { model, hyper: parsed.data as Record<string, unknown>, ...(epochs ? { epochs } : {}), ...(patience ? { patience } : {}), ...(split ? { split } : {}), ...(force ? { force } : {}), ...(refit !== undefined ? { refit } : {}) };
}

export const adminRoutes: FastifyPluginAsync<AdminRoutesOptions> = async (fastify, opts) => {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const errors = { 400: errorResponse };

  const toModelView = (v: ModelVersion): z.infer<typeof modelVersionView> => ({
    model: v.model,
    version: v.version,
    createdAt: new Date(v.createdAt).toISOString(),
    active: v.active,
    activatedAt: isoOrNull(v.activatedAt),
    serving: opts.servingVersion() === v.version,
    validHr10: v.validHr10,
    metrics: v.metrics,
    hyperparameters: (v.manifest.hyperparameters as Record<string, unknown>) ?? {},
    backend: ((v.manifest.backend as { name?: string } | undefined)?.name as string | undefined) ?? null,
    jobId: v.jobId,
  });

  app.post(
    '/admin/retrain',
    { config: ADMIN, schema: { body: retrainBody, response: { 202: retrainResponse, ...errors, 503: errorResponse } } },
    async (request, reply) => {
      const retrain = toRetrainRequest(request.body, opts.defaultModel);
      try {
        const { job, deduplicated } = await opts.queue.enqueue(retrain);
        request.log.info({ jobId: job.id, model: job.model, deduplicated }, 'retrain requested');
        return reply.code(202).send({ jobId: job.id, deduplicated, job: toJobView(job) });
      } catch (err) {
        if (err instanceof QueueUnavailableError) {
          reply.header('retry-after', '5');
          throw new AppError(503, 'queue_unavailable', 'The job queue is unavailable; try again shortly');
        }
        throw err;
      }
    },
  );

  app.get('/admin/jobs', { config: ADMIN, schema: { querystring: jobsQuery, response: { 200: jobsResponse, ...errors } } }, async (request) => ({
    jobs: (await opts.queue.list(request.query.limit, request.query.state)).map(toJobView),
  }));

  app.get('/admin/jobs/:id', { config: ADMIN, schema: { params: jobParams, response: { 200: jobView, ...errors, 404: errorResponse } } }, async (request) => {
    const job = await opts.queue.get(request.params.id);
    if (!job) throw notFound('job', 'params.id');
    return toJobView(job);
  });

  app.delete(
    '/admin/jobs/:id',
    { config: ADMIN, schema: { params: jobParams, response: { 200: jobView, ...errors, 404: errorResponse, 409: errorResponse } } },
    async (request) => {
      const before = await opts.queue.get(request.params.id);
      if (!before) throw notFound('job', 'params.id');
      if (before.state === 'completed' || before.state === 'failed') {
        throw new AppError(409, 'job_finished', `job already ${before.state}`, [{ path: 'params.id', message: `job already ${before.state}` }]);
      }
      const job = await opts.queue.cancel(request.params.id);
      return toJobView(job!);
    },
  );

  app.get('/admin/models', { config: ADMIN, schema: { querystring: modelsQuery, response: { 200: modelsResponse, ...errors } } }, async (request) => ({
    models: (await opts.models.list(request.query.model)).map(toModelView),
  }));

  app.post(
    '/admin/models/:model/:version/activate',
    { config: ADMIN, schema: { params: activateParams, response: { 200: modelVersionView, ...errors, 404: errorResponse } } },
    async (request) => {
      const { model, version } = request.params;
      if (!(await opts.models.activate(model, version, Date.now()))) throw notFound('model version', 'params.version');
      request.log.info({ model, version }, 'model version activated');
      // Answer once this process serves the change, so the caller's next read reflects it.
      await opts.refreshServing();
      return toModelView((await opts.models.get(model, version))!);
    },
  );
};
