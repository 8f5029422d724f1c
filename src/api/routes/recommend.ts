import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { AppError, notFound } from '../../errors.js';
import type { ItemFilter } from '../../serving/catalogue.js';
import { grants } from '../../auth/keys.js';
import { Recommender, UnknownItemError, UnknownModelError, UnknownUserError, UnsupportedByModelError } from '../../serving/recommender.js';
import { bodyErrors, errorResponse } from '../schemas/common.js';
import { similarUsersQuery, similarUsersResponse, latestResponse, listQuery, popularResponse, recommendParams, recommendQuery, recommendResponse, sessionBody, sessionQuery, sessionResponse, similarParams, similarQuery, similarResponse } from '../schemas/recommend.js';

export interface RecommendRoutesOptions {
  recommender: Recommender;
  /** Counts answers by source and the model that gave them (metrics). */
  onAnswer?: (route: 'recommendations' | 'similar' | 'session', answer: { source: 'model' | 'fallback'; model: string; method: 'trained' | 'fold-in' | 'popularity' }) => void;
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
  if (err instanceof UnknownUserError) throw notFound('user in the model', 'params.id');
  if (err instanceof UnsupportedByModelError) throw new AppError(409, 'not_supported', err.message, [{ path: 'query.model', message: err.message }]);
  throw err;
}

export const recommendRoutes: FastifyPluginAsync<RecommendRoutesOptions> = async (fastify, opts) => {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const errors = { 400: errorResponse, 403: errorResponse, 404: errorResponse };

  app.get(
    '/users/:id/recommendations',
    { config: { scope: 'read' }, schema: { params: recommendParams, querystring: recommendQuery, response: { 200: recommendResponse, ...errors } } },
    async (request) => {
      const { limit, exclude_seen: excludeSeen, model, explain } = request.query;
      const filter = filterFrom(request, request.query);
      try {
        const answer = await opts.recommender.recommend(request.params.id, { limit, excludeSeen, model, filter, explain });
        opts.onAnswer?.('recommendations', answer);
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
        const { method, ...answer } = await opts.recommender.similar(request.params.id, request.query.limit, { model: request.query.model, filter });
        opts.onAnswer?.('similar', { ...answer, method });
        return { itemId: request.params.id, ...answer };
      } catch (err) {
        translate(err);
      }
    },
  );

  app.post(
    '/recommendations',
    { config: { scope: 'read' }, schema: { body: sessionBody, querystring: sessionQuery, response: { 200: sessionResponse, ...errors, ...bodyErrors } } },
    async (request) => {
      const filter = filterFrom(request, request.query);
      try {
        const answer = opts.recommender.session(request.body.items, request.body.ratings, { limit: request.query.limit, model: request.query.model, filter, explain: request.query.explain });
        opts.onAnswer?.('session', answer);
        return answer;
      } catch (err) {
        translate(err);
      }
    },
  );

  app.get('/popular', { config: { scope: 'read' }, schema: { querystring: listQuery, response: { 200: popularResponse, ...errors } } }, async (request) => {
    const { computedAt, items } = opts.recommender.popular(request.query.limit, filterFrom(request, request.query));
    return { computedAt: computedAt ? new Date(computedAt).toISOString() : null, items };
  });

  app.get('/latest', { config: { scope: 'read' }, schema: { querystring: listQuery, response: { 200: latestResponse, ...errors } } }, async (request) => ({
    items: opts.recommender.latest(request.query.limit, filterFrom(request, request.query)).map((i) => ({ itemId: i.itemId, createdAt: new Date(i.createdAt).toISOString() })),
  }));

  app.get(
    '/users/:id/similar',
    { config: { scope: 'read' }, schema: { params: recommendParams, querystring: similarUsersQuery, response: { 200: similarUsersResponse, ...errors, 409: errorResponse } } },
    async (request) => {
      try {
        return { userId: request.params.id, ...opts.recommender.similarUsers(request.params.id, request.query.limit, request.query.model) };
      } catch (err) {
        translate(err);
      }
    },
  );
};
