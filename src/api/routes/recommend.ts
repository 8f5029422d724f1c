import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { AppError, notFound } from '../../errors.js';
import type { ItemFilter } from '../../serving/catalogue.js';
import { grants } from '../../auth/keys.js';
import { Recommender, UnknownItemError, UnknownModelError } from '../../serving/recommender.js';
import { errorResponse } from '../schemas/common.js';
import { recommendParams, recommendQuery, recommendResponse, similarParams, similarQuery, similarResponse } from '../schemas/recommend.js';

export interface RecommendRoutesOptions {
  recommender: Recommender;
  /** Counts answers by source and the model that gave them (metrics). */
  onAnswer?: (route: 'recommendations' | 'similar', source: 'model' | 'fallback', model: string) => void;
}

/** Catalogue filters from the query; hidden items only for an admin key (403 otherwise). */
function filterFrom(request: FastifyRequest, query: { category?: string[]; exclude?: string[]; include_hidden: boolean }): ItemFilter {
  if (query.include_hidden && !grants(request.principal?.scopes ?? [], 'admin')) {
    throw new AppError(403, 'forbidden', 'include_hidden requires an admin key', [{ path: 'query.include_hidden', message: 'requires a key with the admin scope' }]);
  }
  return { categories: query.category, exclude: query.exclude, includeHidden: query.include_hidden };
}

function translate(err: unknown): never {
  if (err instanceof UnknownModelError) throw notFound(`active version of model ${err.model}`, 'query.model');
  if (err instanceof UnknownItemError) throw notFound('item', 'params.id');
  throw err;
}

export const recommendRoutes: FastifyPluginAsync<RecommendRoutesOptions> = async (fastify, opts) => {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const errors = { 400: errorResponse, 403: errorResponse, 404: errorResponse };

  app.get(
    '/users/:id/recommendations',
    { config: { scope: 'read' }, schema: { params: recommendParams, querystring: recommendQuery, response: { 200: recommendResponse, ...errors } } },
    async (request) => {
      const { limit, exclude_seen: excludeSeen, model } = request.query;
      const filter = filterFrom(request, request.query);
      try {
        const answer = opts.recommender.recommend(request.params.id, { limit, excludeSeen, model, filter });
        opts.onAnswer?.('recommendations', answer.source, answer.model);
        return { userId: request.params.id, ...answer };
      } catch (err) {
        translate(err);
      }
    },
  );

  app.get(
    '/items/:id/similar',
    { config: { scope: 'read' }, schema: { params: similarParams, querystring: similarQuery, response: { 200: similarResponse, ...errors } } },
    async (request) => {
      const filter = filterFrom(request, request.query);
      try {
        const { method: _method, ...answer } = opts.recommender.similar(request.params.id, request.query.limit, { model: request.query.model, filter });
        opts.onAnswer?.('similar', answer.source, answer.model);
        return { itemId: request.params.id, ...answer };
      } catch (err) {
        translate(err);
      }
    },
  );
};
