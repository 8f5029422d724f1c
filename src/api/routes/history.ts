import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { HistoryCursor, HistoryRepository } from '../../db/history-repository.js';
import { badRequest, notFound } from '../../errors.js';
import { errorResponse } from '../schemas/common.js';
import { historyParams, historyQuery, historyResponse } from '../schemas/history.js';

export interface HistoryRoutesOptions {
  history: HistoryRepository;
}

// The cursor is opaque to clients; base64url JSON keeps it URL-safe and easy to validate.
function encodeCursor(c: HistoryCursor): string {
  return Buffer.from(JSON.stringify([c.ts, c.kind, c.id])).toString('base64url');
}

function decodeCursor(raw: string): HistoryCursor {
  try {
    const [ts, kind, id] = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as unknown[];
    if (Number.isSafeInteger(ts) && (kind === 'rating' || kind === 'event') && Number.isSafeInteger(id)) {
      return { ts: ts as number, kind, id: id as number };
    }
  } catch {
    // fall through to the 400 below
  }
  throw badRequest('query.cursor', 'is not a cursor returned by this endpoint');
}

export const historyRoutes: FastifyPluginAsync<HistoryRoutesOptions> = async (fastify, opts) => {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  app.get('/users/:id/history', {
    config: { scope: 'read' },
    schema: {
      params: historyParams,
      querystring: historyQuery,
      response: { 200: historyResponse, 400: errorResponse, 404: errorResponse },
    },
    handler: async (request) => {
      const { id } = request.params;
      const { limit, cursor } = request.query;
      const page = await opts.history.page(id, limit, cursor ? decodeCursor(cursor) : null);
      if (!page) throw notFound('User', 'params.id');
      return {
        userId: id,
        items: page.entries.map((e) => ({ ...e, timestamp: new Date(e.timestamp).toISOString() })),
        nextCursor: page.next ? encodeCursor(page.next) : null,
      };
    },
  });
};
