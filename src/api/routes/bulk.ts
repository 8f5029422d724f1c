import { Readable } from 'node:stream';
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { BULK_KINDS, type BulkKind, type BulkRecord, type BulkRepository } from '../../db/bulk-repository.js';
import { AppError, notFound } from '../../errors.js';
import { ndjsonLines, type NdjsonLimits } from '../ndjson-lines.js';
import { errorResponse, pathId } from '../schemas/common.js';
import { parseJsonStrict } from '../strict-json.js';
import { TimeBudget } from '../../scheduling/yield.js';

/** Rows per export page and per import transaction. */
const PAGE = 1000;
/** Fields an export adds that an import ignores, so an export file imports as it is. */
const EXPORT_ONLY = ['cursor', 'createdAt'];

export interface ImportSink {
  /** Validates and writes one batch (one transaction); returns how many records it wrote. Throws a ZodError-shaped AppError on bad input. */
  write(kind: BulkKind, records: unknown[]): Promise<number>;
}

export interface BulkRoutesOptions {
  bulk: BulkRepository;
  sink: ImportSink;
  /** A rating or event was deleted: the user's cached answers are stale. */
  onDeleted: (userId: string) => void;
  /** Byte bounds on an import's lines and body. */
  importLimits: NdjsonLimits;
}

const kindParams = z.strictObject({ kind: z.enum(BULK_KINDS) });
/** A row cursor: the `cursor` of the last exported line, or the `nextCursor` of the last page. */
const after = z.coerce.number().int().min(0).default(0).describe('Continue after this cursor: the `cursor` of the last exported line, or a page\'s `nextCursor`');
const exportQuery = z.strictObject({ after });
const importResponse = z.object({ kind: z.enum(BULK_KINDS), lines: z.number().int(), written: z.number().int() });

/**
 * NDJSON pages of one table, one bounded query per page, pulled as the client reads, in time
 * slices: a fast reader on loopback never applies back-pressure, so without the pauses the
 * whole table went out in one turn of the loop.
 */
function exportStream(bulk: BulkRepository, kind: BulkKind, after: number): Readable {
  async function* pages(): AsyncGenerator<string> {
    const budget = new TimeBudget();
    for (let cursor = after; ; ) {
      await budget.pause();
      const rows = await bulk.page(kind, cursor, PAGE);
      if (rows.length === 0) return;
      cursor = rows[rows.length - 1].cursor;
      yield `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`;
    }
  }
  return Readable.from(pages(), { objectMode: false });
}

/** The body's lines; a limit or encoding error also says how many records were written before it. */
async function* lineStream(body: Readable, limits: NdjsonLimits, written: () => number): AsyncGenerator<{ line: number; text: string }> {
  try {
    yield* ndjsonLines(body, limits);
  } catch (err) {
    if (err instanceof AppError) throw new AppError(err.statusCode, err.code, `${err.message}; the ${written()} records before it were written`, err.details);
    throw err;
  }
}

const badLine = (line: number, message: string, written: number): AppError =>
  new AppError(400, 'validation_failed', `Import stopped at line ${line}; the ${written} records before it were written`, [{ path: `line ${line}`, message }]);

/**
 * Bulk data: streamed NDJSON export of users, items, ratings and events (resumable by cursor),
 * streamed import of the same format in transactions of 1,000 lines, and single deletions.
 */
export const bulkRoutes: FastifyPluginAsync<BulkRoutesOptions> = async (fastify, opts) => {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  app.addContentTypeParser('application/x-ndjson', (_request, payload, done) => done(null, payload));

  app.get('/admin/export/:kind', { config: { scope: 'admin' }, schema: { params: kindParams, querystring: exportQuery, response: { 400: errorResponse } } }, async (request, reply) => {
    reply.type('application/x-ndjson');
    // A stream is sent as is (no serializer runs); the typed reply only knows the 400 schema.
    return reply.send(exportStream(opts.bulk, request.params.kind, request.query.after) as never);
  });

  app.post(
    '/admin/import/:kind',
    { config: { scope: 'admin', streamsBody: true }, schema: { params: kindParams, response: { 200: importResponse, 400: errorResponse, 415: errorResponse } } },
    async (request) => {
      if (!(request.body instanceof Readable)) throw new AppError(415, 'unsupported_media_type', 'send NDJSON with content-type application/x-ndjson', [{ path: 'headers.content-type', message: 'must be application/x-ndjson' }]);
      const kind = request.params.kind;
      let line = 0;
      let written = 0;
      let batch: { line: number; value: unknown }[] = [];
      const flush = async (): Promise<void> => {
        try {
          written += await opts.sink.write(kind, batch.map((b) => b.value));
        } catch (err) {
          // Only a record's own fault stops the import at its line; the database's (full, away) is answered as such.
          if (!(err instanceof AppError) || err.statusCode !== 400) throw err;
          const detail = err.details[0];
          const index = Number(/^body\.\w+\.(\d+)/.exec(detail?.path ?? '')?.[1] ?? 0);
          throw badLine(batch[index]?.line ?? line, `${detail?.path.replace(/^body\.\w+\.\d+\.?/, '') || 'record'}: ${detail?.message ?? (err as Error).message}`, written);
        }
        batch = [];
      };
      // Lines already buffered are read without ever yielding: the budget pauses between them.
      const budget = new TimeBudget();
      for await (const { line: at, text } of lineStream(request.body, opts.importLimits, () => written)) {
        line = at;
        await budget.pause();
        if (text.trim() === '') continue;
        let value: unknown;
        try {
          value = parseJsonStrict(text, 'record');
        } catch (err) {
          // Malformed JSON names the record, a lone surrogate the field inside it.
          const detail = err instanceof AppError ? err.details[0] : undefined;
          throw badLine(line, !detail || detail.path === 'record' ? 'not a JSON object' : `${detail.path.replace(/^record\./, '')}: ${detail.message}`, written);
        }
        if (value === null || typeof value !== 'object' || Array.isArray(value)) throw badLine(line, 'not a JSON object', written);
        for (const field of EXPORT_ONLY) delete (value as Record<string, unknown>)[field];
        batch.push({ line, value });
        if (batch.length === PAGE) await flush();
      }
      if (batch.length) await flush();
      request.log.info({ kind, lines: line, written }, 'bulk import');
      return { kind, lines: line, written };
    },
  );

  app.delete('/users/:id/ratings/:itemId', { config: { scope: 'write' }, schema: { params: z.strictObject({ id: pathId, itemId: pathId }), response: { 204: z.null(), 400: errorResponse, 404: errorResponse } } }, async (request, reply) => {
    if (!(await opts.bulk.deleteRating(request.params.id, request.params.itemId))) throw notFound('rating', 'params.itemId');
    opts.onDeleted(request.params.id);
    return reply.code(204).send(null);
  });

  app.delete('/events/:eventId', { config: { scope: 'write' }, schema: { params: z.strictObject({ eventId: z.string().min(1).max(128) }), response: { 204: z.null(), 400: errorResponse, 404: errorResponse } } }, async (request, reply) => {
    const user = await opts.bulk.deleteEvent(request.params.eventId);
    if (user === null) throw notFound('event', 'params.eventId');
    opts.onDeleted(user);
    return reply.code(204).send(null);
  });

  const listQuery = z.strictObject({
    after,
    limit: z.coerce.number().int().min(1, 'must be between 1 and 1000').max(1000, 'must be between 1 and 1000').default(100),
  });
  const item = z.object({ itemId: z.string(), categories: z.array(z.string()), hidden: z.boolean(), availableFrom: z.number().nullable(), availableUntil: z.number().nullable(), labels: z.record(z.string(), z.string()), createdAt: z.string() });
  const user = z.object({ userId: z.string(), labels: z.record(z.string(), z.string()), createdAt: z.string() });
  const nextCursor = z.number().int().nullable().describe('Pass as `after` for the next page; null on the last');
  /** One page of a listing: the exported rows without their cursor, `createdAt` as ISO 8601. */
  async function page<T>(read: () => Promise<BulkRecord[]>, limit: number): Promise<{ rows: T[]; nextCursor: number | null }> {
    const rows = await read();
    return {
      rows: rows.map(({ cursor: _c, createdAt, ...r }) => ({ ...r, createdAt: new Date(createdAt as number).toISOString() }) as T),
      nextCursor: rows.length === limit ? rows[rows.length - 1].cursor : null,
    };
  }

  const itemsQuery = listQuery
    .extend({
      q: z.string().min(1, 'must not be empty').max(256, 'must be at most 256 characters').optional().describe('Only items whose id starts with this, in id order (one page: nextCursor is null)'),
      category: z.string().min(1, 'must not be empty').max(64, 'must be at most 64 characters').optional().describe('Only items in this category'),
    })
    .refine((v) => !(v.q && v.category), { message: 'search by id prefix or by category, not both', path: ['category'] });
  app.get('/items', { config: { scope: 'read' }, schema: { querystring: itemsQuery, response: { 200: z.object({ items: z.array(item), nextCursor }), 400: errorResponse } } }, async (request) => {
    const { q, category, after: from, limit } = request.query;
    const search = q ? { prefix: q } : category ? { category, after: from } : null;
    const { rows, nextCursor: next } = await page<z.infer<typeof item>>(search ? () => opts.bulk.searchItems(search, limit) : () => opts.bulk.page('items', from, limit), limit);
    return { items: rows, nextCursor: q ? null : next };
  });
  const usersQuery = listQuery.extend({ q: z.string().min(1, 'must not be empty').max(256, 'must be at most 256 characters').optional().describe('Only users whose id starts with this, in id order (one page: nextCursor is null)') });
  app.get('/users', { config: { scope: 'read' }, schema: { querystring: usersQuery, response: { 200: z.object({ users: z.array(user), nextCursor }), 400: errorResponse } } }, async (request) => {
    const { q, after: from, limit } = request.query;
    const { rows, nextCursor: next } = await page<z.infer<typeof user>>(q ? () => opts.bulk.searchUsers(q, limit) : () => opts.bulk.page('users', from, limit), limit);
    return { users: rows, nextCursor: q ? null : next };
  });
};
