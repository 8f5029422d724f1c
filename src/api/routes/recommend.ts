import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { AppError, notFound } from '../../errors.js';
import type { ItemFilter } from '../../serving/catalogue.js';
import { grants } from '../../auth/keys.js';
import { ItemQueries, UnknownItemError, UnknownLeaderboardError, UnknownUserError, UnsupportedByModelError } from '../../pipeline/item-queries.js';
import { BadCursorError, CursorExpiredError, Recommender, UnknownModelError, UnknownSourceError, type Recommendation } from '../../pipeline/recommender.js';
import type { OnlineServing } from '../../online/serving.js';
import { bodyErrors, errorResponse } from '../schemas/common.js';
import {
  latestResponse,
  leaderboardParams,
  listQuery,
  popularResponse,
  recommendParams,
  recommendQuery,
  recommendResponse,
  sessionBody,
  sessionQuery,
  sessionResponse,
  similarParams,
  similarQuery,
  similarResponse,
  similarUsersQuery,
  similarUsersResponse,
} from '../schemas/recommend.js';

export interface RecommendRoutesOptions {
  recommender: Recommender;
  /** Gives every answer its recommendationId and logs its impression; runs experiments and exploration. */
  online: OnlineServing;
  queries: ItemQueries;
  /** Counts answers by source and the model that gave them, and served slots by source (metrics). */
  onAnswer?: (route: 'recommendations' | 'similar' | 'session', answer: { source: 'model' | 'fallback'; model: string; method: 'trained' | 'fold-in' | 'popularity'; items: readonly { source: string }[] }) => void;
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
  if (err instanceof UnknownLeaderboardError) throw notFound('leaderboard', 'params.name');
  if (err instanceof UnknownSourceError) throw new AppError(400, 'validation_failed', 'Invalid request', [{ path: 'query.source', message: err.message }]);
  if (err instanceof BadCursorError) throw new AppError(400, 'validation_failed', 'Invalid request', [{ path: 'query.cursor', message: err.message }]);
  if (err instanceof CursorExpiredError) throw new AppError(410, 'cursor_expired', err.message, [{ path: 'query.cursor', message: err.message }]);
  if (err instanceof UnsupportedByModelError) throw new AppError(409, 'not_supported', err.message, [{ path: 'query.model', message: err.message }]);
  throw err;
}

export const recommendRoutes: FastifyPluginAsync<RecommendRoutesOptions> = async (fastify, opts) => {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const errors = { 400: errorResponse, 403: errorResponse, 404: errorResponse };
  const answered = (route: 'recommendations' | 'session', answer: Recommendation): Recommendation => {
    opts.onAnswer?.(route, answer);
    return answer;
  };

  app.get(
    '/users/:id/recommendations',
    { config: { scope: 'read' }, schema: { params: recommendParams, querystring: recommendQuery, response: { 200: recommendResponse, ...errors, 410: errorResponse } } },
    async (request) => {
      const { limit, offset, cursor, source, exclude_seen: excludeSeen, model, explain } = request.query;
      const filter = filterFrom(request, request.query);
      try {
        const answer = await opts.online.recommendations(request.params.id, { limit, offset, cursor, source, excludeSeen, model, filter, explain });
        opts.onAnswer?.('recommendations', answer);
        return { userId: request.params.id, ...answer };
      } catch (err) {
        translate(err);
      }
    },
  );

  app.get(
    '/items/:id/similar',
    { config: { scope: 'read' }, schema: { params: similarParams, querystring: similarQuery, response: { 200: similarResponse, ...errors, 409: errorResponse } } },
    async (request) => {
      const filter = filterFrom(request, request.query);
      try {
        const { method, ...answer } = await opts.queries.similar(request.params.id, request.query.limit, { model: request.query.model, filter, source: request.query.source });
        opts.onAnswer?.('similar', { ...answer, method });
        return { itemId: request.params.id, ...opts.online.shown('similar', request.query.user_id ?? null, answer, {}) };
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
      const { limit, offset, source, model, explain } = request.query;
      try {
        const answer = answered('session', opts.recommender.session(request.body.items, request.body.ratings, { limit, offset, source, model, filter, explain }));
        return opts.online.shown('session', null, answer, {});
      } catch (err) {
        translate(err);
      }
    },
  );

  const board = (name: string | undefined, request: FastifyRequest, query: { limit: number; user_id?: string; category?: string[]; exclude?: string[]; include_hidden: boolean }) => {
    try {
      const { computedAt, ...rest } = opts.queries.leaderboard(name, query.limit, filterFrom(request, query));
      const { recommendationId } = opts.online.shown(name ? 'leaderboard' : 'popular', query.user_id ?? null, { model: 'popularity', modelVersion: null, items: rest.items.map((x) => ({ itemId: x.itemId, source: rest.name })) }, {});
      return { ...rest, computedAt: computedAt ? new Date(computedAt).toISOString() : null, recommendationId };
    } catch (err) {
      translate(err);
    }
  };

  app.get('/popular', { config: { scope: 'read' }, schema: { querystring: listQuery, response: { 200: popularResponse, ...errors } } }, async (request) => board(undefined, request, request.query));

  app.get('/leaderboards/:name', { config: { scope: 'read' }, schema: { params: leaderboardParams, querystring: listQuery, response: { 200: popularResponse, ...errors } } }, async (request) =>
    board(request.params.name, request, request.query),
  );

  app.get('/latest', { config: { scope: 'read' }, schema: { querystring: listQuery, response: { 200: latestResponse, ...errors } } }, async (request) => {
    const items = opts.queries.latest(request.query.limit, filterFrom(request, request.query)).map((i) => ({ itemId: i.itemId, createdAt: new Date(i.createdAt).toISOString() }));
    const { recommendationId } = opts.online.shown('latest', request.query.user_id ?? null, { model: 'latest', modelVersion: null, items: items.map((x) => ({ itemId: x.itemId, source: 'latest' })) }, {});
    return { items, recommendationId };
  });

  app.get(
    '/users/:id/similar',
    { config: { scope: 'read' }, schema: { params: recommendParams.pick({ id: true }), querystring: similarUsersQuery, response: { 200: similarUsersResponse, ...errors, 409: errorResponse } } },
    async (request) => {
      try {
        return { userId: request.params.id, ...opts.queries.similarUsers(request.params.id, request.query.limit, request.query.model) };
      } catch (err) {
        translate(err);
      }
    },
  );
};
