import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { notFound } from '../../errors.js';
import { Recommender, UnknownItemError, UnknownModelError } from '../../serving/recommender.js';
import { errorResponse } from '../schemas/common.js';
import { recommendParams, recommendQuery, recommendResponse, similarParams, similarQuery, similarResponse } from '../schemas/recommend.js';

export interface RecommendRoutesOptions {
  recommender: Recommender;
  /** Counts answers by source (metrics). */
  onAnswer?: (route: 'recommendations' | 'similar', source: 'model' | 'fallback') => void;
}

function translate(err: unknown): never {
  if (err instanceof UnknownModelError) throw notFound(`active version of model ${err.model}`, 'query.model');
  if (err instanceof UnknownItemError) throw notFound('item', 'params.id');
  throw err;
}

export const recommendRoutes: FastifyPluginAsync<RecommendRoutesOptions> = async (fastify, opts) => {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const errors = { 400: errorResponse, 404: errorResponse };

  app.get(
    '/users/:id/recommendations',
    { schema: { params: recommendParams, querystring: recommendQuery, response: { 200: recommendResponse, ...errors } } },
    async (request) => {
      const { limit, exclude_seen: excludeSeen, model } = request.query;
      try {
        const answer = opts.recommender.recommend(request.params.id, { limit, excludeSeen, model });
        opts.onAnswer?.('recommendations', answer.source);
        return { userId: request.params.id, ...answer };
      } catch (err) {
        translate(err);
      }
    },
  );

  app.get(
    '/items/:id/similar',
    { schema: { params: similarParams, querystring: similarQuery, response: { 200: similarResponse, ...errors } } },
    async (request) => {
      try {
        const { method: _method, ...answer } = opts.recommender.similar(request.params.id, request.query.limit, { model: request.query.model });
        opts.onAnswer?.('similar', answer.source);
        return { itemId: request.params.id, ...answer };
      } catch (err) {
        translate(err);
      }
    },
  );
};
