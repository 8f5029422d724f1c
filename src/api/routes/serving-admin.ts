import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { z } from 'zod';
import type { ModelsRepository } from '../../db/models-repository.js';
import { notFound } from '../../errors.js';
import { chooseServing, NoSuchVersion } from '../../serving/serving-choice.js';
import { bodyErrors, errorResponse } from '../schemas/common.js';
import { servingBody, servingView } from '../schemas/admin.js';

export interface ServingAdminRoutesOptions {
  models: ModelsRepository;
  /** The version this process serves by default right now. */
  loadedVersion: () => string | null;
  /** Asks serving to pick up the change now instead of at the next poll. */
  refreshServing: () => Promise<void>;
}

const ADMIN = { scope: 'admin' as const };

/** What serves by default: read it, or choose `auto` or a pinned model (and version). */
export const servingAdminRoutes: FastifyPluginAsync<ServingAdminRoutesOptions> = async (fastify, opts) => {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const view = async (): Promise<z.infer<typeof servingView>> => {
    const choice = await opts.models.servingChoice();
    const version = await opts.models.servingVersion();
    return {
      mode: choice.mode,
      model: choice.model,
      version: version?.version ?? null,
      validHr10: version?.validHr10 ?? null,
      setBy: choice.setBy,
      updatedAt: new Date(choice.updatedAt).toISOString(),
      loadedVersion: opts.loadedVersion(),
    };
  };

  app.get('/admin/serving', { config: ADMIN, schema: { response: { 200: servingView } } }, async () => view());

  app.post('/admin/serving', { config: ADMIN, schema: { body: servingBody, response: { 200: servingView, ...bodyErrors, 404: errorResponse } } }, async (request) => {
    try {
      await chooseServing(opts.models, request.body.model, request.body.version, 'admin', Date.now());
    } catch (err) {
      if (err instanceof NoSuchVersion) throw notFound(err.what, request.body.version ? 'body.version' : 'body.model');
      throw err;
    }
    await opts.refreshServing();
    request.log.info({ serving: await opts.models.servingChoice() }, 'serving model chosen');
    return view();
  });
};
